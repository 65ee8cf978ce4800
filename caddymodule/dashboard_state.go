package caddymodule

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/split"
)

// recentSize is how many requests the status page shows.
const recentSize = 100

// recentRequest is what the status page shows of one request: what the
// handlers decided, never its body, query string or headers.
type recentRequest struct {
	Time        time.Time `json:"time"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Status      int       `json:"status"`
	CacheStatus string    `json:"cache_status"`
	Upstream    string    `json:"upstream"`
	Variant     string    `json:"variant"`
	DurationMs  float64   `json:"duration_ms"`
	// From the answer's usage, as the cost metering read it (absent: no
	// readable usage, or not a 2xx answer).
	InputTokens  *int64   `json:"input_tokens,omitempty"`
	OutputTokens *int64   `json:"output_tokens,omitempty"`
	CostUSD      *float64 `json:"cost_usd,omitempty"`  // absent: unpriced; 0 from the cache
	SavedUSD     float64  `json:"saved_usd,omitempty"` // from the cache: what it would have cost
}

// withCost adds what the cost metering read of the answer.
func (rr *recentRequest) withCost(ac answerCost) {
	rr.InputTokens, rr.OutputTokens = &ac.Input, &ac.Output
	if ac.Priced {
		rr.CostUSD, rr.SavedUSD = &ac.USD, ac.SavedUSD
	}
}

// recent is a ring of the last recentSize requests.
var recent struct {
	mu   sync.Mutex
	buf  [recentSize]recentRequest
	next int
	n    int
}

// maxRecentPath and maxRecentMethod bound what a request keeps on the
// page: a client chooses both.
const (
	maxRecentPath   = 200
	maxRecentMethod = 16
)

// rememberRequest keeps a request for the status page, if one is mounted.
func rememberRequest(rr recentRequest) {
	if liveDashboards.Load() <= 0 {
		return
	}
	rr.Path, rr.Method = clip(rr.Path, maxRecentPath), clip(rr.Method, maxRecentMethod)
	if !utf8.ValidString(rr.Path) {
		rr.Path = strings.ToValidUTF8(rr.Path, "\uFFFD")
	}
	recent.mu.Lock()
	recent.buf[recent.next] = rr
	recent.next = (recent.next + 1) % recentSize
	recent.n = min(recent.n+1, recentSize)
	recent.mu.Unlock()
}

// clip cuts s to at most n bytes, at a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// recentRequests returns the remembered requests, newest first.
func recentRequests() []recentRequest {
	recent.mu.Lock()
	defer recent.mu.Unlock()
	out := make([]recentRequest, 0, recent.n)
	for i := 1; i <= recent.n; i++ {
		out = append(out, recent.buf[(recent.next-i+recentSize)%recentSize])
	}
	return out
}

// dashboardCache is a cache as the page shows it: the admin API's stats
// and its lookups by result since the process started.
type dashboardCache struct {
	cacheStats
	Lookups map[string]float64 `json:"lookups"`
	HitRate *float64           `json:"hit_rate,omitempty"` // answers from the cache over lookups not bypassed
}

type dashboardZone struct {
	Name    string  `json:"name"`
	Keys    int     `json:"keys"`
	Evicted int64   `json:"evicted"`
	Allowed float64 `json:"allowed"`
	Limited float64 `json:"limited"`
}

type dashboardState struct {
	Time        time.Time          `json:"time"`
	Caches      []dashboardCache   `json:"caches"`
	Breakers    []breaker.Snapshot `json:"breakers"`
	Zones       []dashboardZone    `json:"zones"`
	Experiments []split.Report     `json:"experiments"`
	Recent      []recentRequest    `json:"recent"`
}

// counterValue reads a counter's value.
func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if c.Write(&m) != nil || m.Counter == nil {
		return 0
	}
	return m.Counter.GetValue()
}

// dashboardSnapshot gathers what the page shows, from the same state as
// the admin API and the metrics.
func dashboardSnapshot() dashboardState {
	st := dashboardState{Time: time.Now(), Breakers: []breaker.Snapshot{}, Zones: []dashboardZone{}, Experiments: []split.Report{}}
	for _, c := range statsByName() {
		dc := dashboardCache{cacheStats: c, Lookups: map[string]float64{}}
		for _, result := range []string{"hit", "semantic", "coalesced", "stale", "miss", "bypass"} {
			dc.Lookups[result] = counterValue(cacheVecs.lookups.WithLabelValues(c.Name, result))
		}
		l := dc.Lookups
		if asked := l["hit"] + l["semantic"] + l["coalesced"] + l["miss"]; asked > 0 {
			rate := (l["hit"] + l["semantic"] + l["coalesced"] + l["stale"]) / asked
			dc.HitRate = &rate
		}
		st.Caches = append(st.Caches, dc)
	}
	eachBreaker(func(b *breaker.Breaker) { st.Breakers = append(st.Breakers, b.Snapshot()) })
	sort.Slice(st.Breakers, func(i, j int) bool { return st.Breakers[i].Name < st.Breakers[j].Name })
	zones := map[string]*dashboardZone{}
	eachZoneState(func(s *zoneState) {
		z, ok := zones[s.name]
		if !ok {
			z = &dashboardZone{Name: s.name,
				Allowed: counterValue(rlVecs.decisions.WithLabelValues(s.name, "allowed")),
				Limited: counterValue(rlVecs.decisions.WithLabelValues(s.name, "limited"))}
			zones[s.name] = z
		}
		k, e := s.keys()
		z.Keys += k
		z.Evicted += e
	})
	for _, z := range zones {
		st.Zones = append(st.Zones, *z)
	}
	sort.Slice(st.Zones, func(i, j int) bool { return st.Zones[i].Name < st.Zones[j].Name })
	eachExperiment(func(e *split.Experiment) { st.Experiments = append(st.Experiments, e.Report()) })
	sort.Slice(st.Experiments, func(i, j int) bool { return st.Experiments[i].Name < st.Experiments[j].Name })
	st.Recent = recentRequests()
	return st
}
