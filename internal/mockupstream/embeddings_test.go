package mockupstream

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"slices"
	"testing"
)

type embeddingAnswer struct {
	Object string `json:"object"`
	Model  string `json:"model"`
	Data   []struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func TestEmbeddings(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	get := func(body string) embeddingAnswer {
		t.Helper()
		resp, b := do(t, ts, http.MethodPost, "/v1/embeddings", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", body, resp.StatusCode, b)
		}
		var a embeddingAnswer
		decodeInto(t, b, &a)
		return a
	}

	one := get(`{"model":"emb","input":"alpha beta"}`)
	if one.Object != "list" || one.Model != "emb" || len(one.Data) != 1 || one.Data[0].Object != "embedding" {
		t.Fatalf("shape: %+v", one)
	}
	if one.Usage.PromptTokens != 2 || one.Usage.TotalTokens != 2 {
		t.Errorf("usage %+v", one.Usage)
	}
	v := one.Data[0].Embedding
	if len(v) != defaultDimensions {
		t.Errorf("%d dimensions, want %d", len(v), defaultDimensions)
	}
	if n := l2(v); math.Abs(n-1) > 1e-5 {
		t.Errorf("norm %v", n)
	}

	many := get(`{"input":["gamma","alpha beta"],"dimensions":64}`)
	if len(many.Data) != 2 || many.Data[0].Index != 0 || many.Data[1].Index != 1 || many.Model != "mock-model" {
		t.Fatalf("shape: %+v", many)
	}
	for _, d := range many.Data {
		if len(d.Embedding) != 64 || math.Abs(l2(d.Embedding)-1) > 1e-5 {
			t.Errorf("vector %d: %d dims, norm %v", d.Index, len(d.Embedding), l2(d.Embedding))
		}
	}
	if slices.Equal(many.Data[0].Embedding, many.Data[1].Embedding) {
		t.Error("different texts gave the same vector")
	}
	if again := get(`{"input":["alpha beta"]}`); !slices.Equal(again.Data[0].Embedding, v) {
		t.Error("same text gave a different vector")
	}
	if again := get(`{"input":["gamma","alpha beta"],"dimensions":64}`); !slices.Equal(again.Data[1].Embedding, many.Data[1].Embedding) {
		t.Error("same text and dimensions gave a different vector")
	}
}

func TestEmbeddingsBase64(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	_, b := do(t, ts, http.MethodPost, "/v1/embeddings", `{"input":"alpha","encoding_format":"base64","dimensions":8}`)
	var a struct {
		Data []struct {
			Embedding string `json:"embedding"`
		} `json:"data"`
	}
	decodeInto(t, b, &a)
	raw, err := base64.StdEncoding.DecodeString(a.Data[0].Embedding)
	if err != nil || len(raw) != 32 {
		t.Fatalf("decoding %q: %v (%d bytes)", a.Data[0].Embedding, err, len(raw))
	}
	got := make([]float32, 8)
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if want := embed("alpha", 8); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestEmbeddingsValidation(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for _, body := range []string{
		`{"input":`,
		`{"model":"m"}`,
		`{"input":[]}`,
		`{"input":[1,2,3]}`,
		`{"input":"x","dimensions":0}`,
		`{"input":"x","dimensions":100000}`,
		`{"input":"x","encoding_format":"int8"}`,
	} {
		if resp, b := do(t, ts, http.MethodPost, "/v1/embeddings", body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d: %s", body, resp.StatusCode, b)
		}
	}
}

func l2(v []float32) float64 {
	sum := 0.0
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum)
}
