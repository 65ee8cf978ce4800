package llm

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// refSSE finds the usage in a whole event stream the plain way: split into
// lines first, then look at each line.
func refSSE(data []byte) (Usage, bool) {
	var (
		m     UsageMeter
		st    counts
		start int
	)
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '\r' && c != '\n' {
			continue
		}
		if line := data[start:i]; len(line) <= maxSSELine {
			m.sseLine(line, &st)
		}
		if c == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		start = i + 1
	}
	if rest := data[start:]; len(rest) > 0 && len(rest) <= maxSSELine {
		m.sseLine(rest, &st)
	}
	return st.usage()
}

// refJSON finds the usage of a JSON answer by decoding all of it.
func refJSON(data []byte) (Usage, bool) {
	var doc struct {
		Usage usageObj `json:"usage"`
	}
	if json.Unmarshal(data, &doc) != nil || !doc.Usage.ok {
		return Usage{}, false
	}
	return doc.Usage.c.usage()
}

func FuzzUsageMeter(f *testing.F) {
	for _, c := range sseCases {
		f.Add(uint8(0), []byte(c.body), uint64(1))
		f.Add(uint8(0), []byte(withEOL(c.body, "\r\n")), uint64(2))
		f.Add(uint8(0), []byte(withEOL(c.body, "\r")), uint64(3))
	}
	f.Add(uint8(1), []byte(`{"usage":{"input_tokens":1,"cache_read_input_tokens":2,"output_tokens":3}}`), uint64(4))
	f.Add(uint8(1), []byte(`{"usage":{"prompt_tokens":1e2,"total_tokens":-0}}`), uint64(5))
	f.Add(uint8(1), []byte(`{"a":"x\\\"usage\"","b":[{"usage":{"prompt_tokens":7}}],"usage":{"prompt_tokens":2},"usage":{"completion_tokens":3}}`), uint64(6))
	f.Add(uint8(1), []byte(`{"usage":{"prompt_tokens":2}, "c":{"d":[1,{"e":null}],"f":true}, "usage" : null }`), uint64(7))

	f.Fuzz(func(t *testing.T, mode uint8, data []byte, seed uint64) {
		ct := []string{"text/event-stream", "application/json", "text/plain"}[mode%3]
		ce := ""
		if mode&0x80 != 0 {
			ce = "gzip"
		}

		whole := NewUsageMeter(ct, ce)
		feed(t, whole, data)
		want, wantOK := whole.Usage()
		if wantOK && (want.Input < 0 || want.Output < 0 || want.Total < 0) {
			t.Fatalf("negative usage %+v", want)
		}
		if (ce != "" || mode%3 == 2) && wantOK {
			t.Fatalf("inert meter found usage %+v", want)
		}
		if ct == "application/json" && ce == "" && json.Valid(data) {
			if ref, refOK := refJSON(data); ref != want || refOK != wantOK {
				t.Fatalf("meter: %+v, %v; encoding/json: %+v, %v", want, wantOK, ref, refOK)
			}
		}
		if ct == "text/event-stream" && ce == "" {
			if ref, refOK := refSSE(data); ref != want || refOK != wantOK {
				t.Fatalf("meter: %+v, %v; line by line: %+v, %v", want, wantOK, ref, refOK)
			}
		}

		r := rand.New(rand.NewPCG(seed, seed>>32))
		m := NewUsageMeter("application/json", "")
		for i := range 4 {
			var pieces [][]byte
			switch i {
			case 0:
				pieces = splitBytes(data)
			default:
				pieces = splitRandom(data, r, 1+r.IntN(1+len(data)))
			}
			m.Reset(ct, ce) // also checks a reused meter behaves as a new one
			feed(t, m, pieces...)
			if got, ok := m.Usage(); got != want || ok != wantOK {
				t.Fatalf("split %d into %d pieces: %+v, %v; whole: %+v, %v", i, len(pieces), got, ok, want, wantOK)
			}
		}
	})
}
