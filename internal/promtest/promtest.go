// Package promtest runs Debian's prometheus and promtool for tests.
package promtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Tool returns the path of a Prometheus program (prometheus, promtool).
// Without it on PATH the test is skipped, unless
// RAGPROXY_REQUIRE_PROMETHEUS=1 (set by .ci/run) makes that a failure.
func Tool(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("RAGPROXY_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("%s not found: %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install -y prometheus)", name)
	}
	return bin
}

// Server is a prometheus process on a loopback port.
type Server struct {
	URL string // base URL of its HTTP API
}

// Start runs a prometheus that scrapes target (host:port) at metricsPath
// every second, with the rule files given (evaluated every second),
// stopped when the test ends.
func Start(t testing.TB, target, metricsPath string, ruleFiles ...string) *Server {
	t.Helper()
	bin := Tool(t, "prometheus")
	dir := t.TempDir()
	abs := make([]string, len(ruleFiles)) // Prometheus reads them relative to its config's folder
	for i, f := range ruleFiles {
		a, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		abs[i] = a
	}
	rules, _ := json.Marshal(abs) // JSON is YAML
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: %s
scrape_configs:
  - job_name: ragproxy
    metrics_path: %q
    static_configs:
      - targets: [%q]
`, rules, metricsPath, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	s := &Server{URL: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sample is one series of a query's answer.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [time, "value"]
}

// Float is the sample's value.
func (s Sample) Float() float64 {
	str, _ := s.Value[1].(string)
	f, _ := strconv.ParseFloat(str, 64)
	return f
}

// Query evaluates an instant PromQL query now. err is Prometheus's
// error for an invalid expression.
func (s *Server) Query(expr string) ([]Sample, error) {
	resp, err := http.PostForm(s.URL+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("%s", out.Error)
	}
	if out.Data.ResultType != "vector" {
		var scalar [2]any
		if err := json.Unmarshal(out.Data.Result, &scalar); err != nil {
			return nil, fmt.Errorf("result type %s: %w", out.Data.ResultType, err)
		}
		return []Sample{{Value: scalar}}, nil
	}
	var samples []Sample
	if err := json.Unmarshal(out.Data.Result, &samples); err != nil {
		return nil, err
	}
	return samples, nil
}

// Alerts returns the alerts Prometheus's rules hold now, pending or
// firing, by name.
func (s *Server) Alerts() (map[string]string, error) {
	resp, err := http.Get(s.URL + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, a := range out.Data.Alerts {
		m[a.Labels["alertname"]] = a.State
	}
	return m, nil
}
