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

	"github.com/eapache/go-resiliency/batcher"
	lru "github.com/hashicorp/golang-lru/v2"
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
	CacheSize   int           // recent embeddings kept (default 10,000)
	Client      *http.Client  // default: a client with Timeout
}

// Remote embeds questions through an embeddings API. Concurrent questions
// are micro-batched into one call (go-resiliency's batcher), and recent
// embeddings are kept in an LRU so a repeated question costs nothing.
type Remote struct {
	cfg      RemoteConfig
	endpoint string
	batch    *batcher.Batcher
	recent   *lru.Cache[string, []float32]
}

type embedJob struct {
	text string
	vec  []float32
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
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	recent, err := lru.New[string, []float32](cfg.CacheSize)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimSuffix(cfg.URL, "/")
	if !strings.HasSuffix(endpoint, "/embeddings") {
		endpoint += "/embeddings"
	}
	r := &Remote{cfg: cfg, endpoint: endpoint, recent: recent}
	r.batch = batcher.New(cfg.BatchWindow, r.embedBatch)
	return r, nil
}

// EmbedOne returns the unit vector of text.
func (r *Remote) EmbedOne(ctx context.Context, text string) ([]float32, error) {
	if v, ok := r.recent.Get(text); ok {
		return v, nil
	}
	job := &embedJob{text: text}
	done := make(chan error, 1)
	go func() { done <- r.batch.Run(job) }() // Run has no context: wait for it aside
	select {
	case err := <-done:
		if err != nil {
			return nil, err
		}
		r.recent.Add(text, job.vec)
		return job.vec, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// embedBatch sends one embeddings call for every question of a batch.
func (r *Remote) embedBatch(params []any) error {
	jobs := make([]*embedJob, len(params))
	inputs := make([]string, 0, len(params))
	index := map[string]int{}
	for i, p := range params {
		jobs[i] = p.(*embedJob)
		if _, ok := index[jobs[i].text]; !ok {
			index[jobs[i].text] = len(inputs)
			inputs = append(inputs, jobs[i].text)
		}
	}
	vecs, err := r.call(inputs)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		j.vec = vecs[index[j.text]]
	}
	return nil
}

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
		return nil, fmt.Errorf("embeddings endpoint answered %s", resp.Status)
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
