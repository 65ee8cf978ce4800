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

// refUsage decodes a usage object with encoding/json: the reference for
// usageObj.UnmarshalJSON.
type refUsage struct {
	c  counts
	ok bool
}

type refUsageFields struct {
	PromptTokens             refCount `json:"prompt_tokens"`
	CompletionTokens         refCount `json:"completion_tokens"`
	InputTokens              refCount `json:"input_tokens"`
	OutputTokens             refCount `json:"output_tokens"`
	TotalTokens              refCount `json:"total_tokens"`
	CacheCreationInputTokens refCount `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     refCount `json:"cache_read_input_tokens"`
}

func (o *refUsage) UnmarshalJSON(b []byte) error {
	*o = refUsage{}
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var f refUsageFields
	if json.Unmarshal(b, &f) != nil {
		return nil
	}
	fs := [...]*refCount{&f.PromptTokens, &f.CompletionTokens, &f.InputTokens, &f.OutputTokens,
		&f.TotalTokens, &f.CacheCreationInputTokens, &f.CacheReadInputTokens}
	dst := o.c.fields()
	for i, v := range fs {
		if v.bad {
			*o = refUsage{}
			return nil
		}
		*dst[i] = v.count
		o.ok = o.ok || v.set
	}
	return nil
}

type refCount struct {
	count
	bad bool
}

func (f *refCount) UnmarshalJSON(b []byte) error {
	*f = refCount{}
	if string(b) == "null" {
		return nil
	}
	f.n, f.set = parseCount(b)
	f.bad = !f.set
	return nil
}

// refJSON finds the usage of a JSON answer by decoding all of it.
func refJSON(data []byte) (Usage, bool) {
	var doc struct {
		Usage refUsage `json:"usage"`
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
	f.Add(uint8(1), []byte(`{"Usage":{"PROMPT_TOKENS":2,"prompt_tokens":-1,"prompt\u005ftokens":3,"total_tokens":1.0e1}}`), uint64(8))
	f.Add(uint8(1), []byte(`{"prompt_tokens":2,"completion_tokens":"3","total_tokens":[1]}`), uint64(9))

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
		if json.Valid(data) {
			var got usageObj
			var ref refUsage
			got.UnmarshalJSON(data)
			ref.UnmarshalJSON(data)
			if got.c != ref.c || got.ok != ref.ok {
				t.Fatalf("usage object: %+v; encoding/json: %+v", got, ref)
			}
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
