package semantic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// RemoteConfig points a Remote embedder at an OpenAI-compatible
// /v1/embeddings endpoint (OpenAI, Ollama, vLLM, TEI…).
type RemoteConfig struct {
	URL         string        // base URL ("http://localhost:11434/v1") or the full …/embeddings URL
	Model       string        // model name sent with each request
	Key         string        // bearer token; empty sends none
	Dimensions  int           // asked-for vector length (0: the model's own)
	Timeout     time.Duration // per embeddings call (default 2s)
	BatchWindow time.Duration // how long concurrent questions gather into one call (default 2ms)
	CacheSize   int           // recent embeddings kept, over all scopes (default 10,000)
	Client      *http.Client  // default: a client with Timeout

	// MaxInputChars is the longest question embedded, in characters
	// (default DefaultMaxInputChars). A longer one is never sent: EmbedOne
	// returns ErrTooLong for it alone and the semantic step is skipped for
	// that request. It is not truncated: two long questions that differ
	// only past the cut would get the same vector and match.
	MaxInputChars int
}

// DefaultMaxInputChars is the default RemoteConfig.MaxInputChars: about
// 512 tokens of English, the smallest input limit of common embedding
// servers (TEI's default), well under OpenAI's 8191 tokens.
const DefaultMaxInputChars = 2048

// ErrTooLong is EmbedOne's error for a question over MaxInputChars.
var ErrTooLong = errors.New("question too long to embed")

// Remote embeds questions through an embeddings API, behind a Batched:
// concurrent questions are micro-batched into one call and recent
// embeddings are kept per scope. Each question of a batch succeeds or
// fails on its own: a batch the endpoint rejects as a whole as a bad input
// (400, 413 or 422, e.g. one input over its token limit) is split and sent
// again in halves, so only the inputs it rejects on their own fail.
type Remote struct {
	cfg      RemoteConfig
	endpoint string
	batched  *Batched
}

// NewRemote returns a remote embedder.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if cfg.URL == "" {
		return nil, errors.New("embeddings url is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.BatchWindow <= 0 {
		cfg.BatchWindow = 2 * time.Millisecond
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.MaxInputChars <= 0 {
		cfg.MaxInputChars = DefaultMaxInputChars
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	endpoint := strings.TrimSuffix(cfg.URL, "/")
	if !strings.HasSuffix(endpoint, "/embeddings") {
		endpoint += "/embeddings"
	}
	r := &Remote{cfg: cfg, endpoint: endpoint}
	var err error
	if r.batched, err = NewBatched(cfg.BatchWindow, cfg.CacheSize, r.embedInto); err != nil {
		return nil, err
	}
	return r, nil
}

// EmbedOne returns the unit vector of text, asked for in scope (the
// tenant's cache scope: recent vectors are kept per scope).
func (r *Remote) EmbedOne(ctx context.Context, scope, text string) ([]float32, error) {
	if utf8.RuneCountInString(text) > r.cfg.MaxInputChars {
		return nil, ErrTooLong
	}
	return r.batched.EmbedOne(ctx, scope, text)
}

// embedInto embeds inputs into vecs, or sets errs. A call the endpoint
// rejects as a whole as a bad input (400, 413, 422) is split in halves and each sent again,
// so only the inputs it rejects on their own fail (about 2·log₂ n more
// calls for one bad input among n). Anything else (a 5xx, a timeout) fails
// the inputs of that call: the endpoint is unwell, more calls would not help.
func (r *Remote) embedInto(inputs []string, vecs [][]float32, errs []error) {
	got, err := r.call(inputs)
	if err == nil {
		copy(vecs, got)
		return
	}
	var se *statusError
	if len(inputs) > 1 && errors.As(err, &se) && (se.code == http.StatusBadRequest || se.code == http.StatusRequestEntityTooLarge || se.code == http.StatusUnprocessableEntity) {
		h := len(inputs) / 2
		r.embedInto(inputs[:h], vecs[:h], errs[:h])
		r.embedInto(inputs[h:], vecs[h:], errs[h:])
		return
	}
	for i := range errs {
		errs[i] = err
	}
}

// statusError is an embeddings call answered with another status than 200.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "embeddings endpoint answered " + e.status }

func (r *Remote) call(inputs []string) ([][]float32, error) {
	req := map[string]any{"input": inputs, "model": r.cfg.Model}
	if r.cfg.Dimensions > 0 {
		req["dimensions"] = r.cfg.Dimensions
	}
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	if r.cfg.Key != "" {
		hreq.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	}
	resp, err := r.cfg.Client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, &statusError{resp.StatusCode, resp.Status}
	}
	var out struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding embeddings: %w", err)
	}
	vecs := make([][]float32, len(inputs))
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= len(vecs) || len(d.Embedding) == 0 {
			return nil, fmt.Errorf("embeddings answer has a bad index %d", d.Index)
		}
		vecs[d.Index] = normalize(d.Embedding)
	}
	for i, v := range vecs {
		if v == nil || len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("embeddings answer is missing input %d or mixes lengths", i)
		}
	}
	return vecs, nil
}

// normalize scales v to unit length, so cosine similarity is a dot product.
func normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
	return v
}
