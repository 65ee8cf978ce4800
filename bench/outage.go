package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// outageOptions drive the outage scenario of rag_fallback.
type outageOptions struct {
	Conns           int
	Before, Outage  time.Duration // healthy time, then how long the primary is down
	After           time.Duration // healthy time after it comes back
	Failures        int           // breaker: failures that open it…
	Window, OpenFor time.Duration // …within window; open time before probing
}

// outageResult is what the clients and the breaker saw.
type outageResult struct {
	Requests, Errors   int64
	FromBackup         int64
	OpenAfterDeath     time.Duration // primary dies → breaker open
	ClosedAfterRecover time.Duration // primary back → breaker closed
	PrimaryWhileDown   int64         // requests that reached the dead primary (refused dials)
}

// runOutage loads rag_fallback (primary, backup) with o.Conns clients;
// the primary's listener is closed for o.Outage (dials are refused, as
// when the vector DB's host goes away) and then comes back on the same
// address.
func runOutage(o outageOptions) (outageResult, error) {
	var res outageResult
	primary := mockupstream.New(mockupstream.Options{})
	primaryRun, err := mockupstream.Start("127.0.0.1:0", primary)
	if err != nil {
		return res, err
	}
	backupRun, err := mockupstream.Start("127.0.0.1:0", mockupstream.New(mockupstream.Options{}))
	if err != nil {
		return res, err
	}
	defer backupRun.Close()
	site, err := freeAddr()
	if err != nil {
		return res, err
	}
	admin, err := freeAddr()
	if err != nil {
		return res, err
	}
	cf := fmt.Sprintf(`http://%s {
	rag_fallback {
		tier bench_primary {
			timeout 2s
			breaker {
				failures %d
				window %s
				open %s
			}
			reverse_proxy %s
		}
		tier bench_backup {
			reverse_proxy %s
		}
	}
}
`, site, o.Failures, o.Window, o.OpenFor, primaryRun.Addr, backupRun.Addr)
	stop, err := startCaddyAdmin(admin, cf, site)
	if err != nil {
		return res, err
	}
	defer stop()

	var requests, errs, backup atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range o.Conns {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				resp, _, err := postWith(client, "http://"+site+chatPath, chatBody(fmt.Sprintf("client %d question %d", c, i)))
				requests.Add(1)
				switch {
				case err != nil || resp.StatusCode != http.StatusOK:
					errs.Add(1)
				case resp.Header.Get("X-RAG-Upstream") == "bench_backup":
					backup.Add(1)
				}
			}
		})
	}

	state := func() string {
		resp, err := http.Get("http://" + admin + "/rag/breakers")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var list []struct{ Name, State string }
		json.NewDecoder(resp.Body).Decode(&list)
		for _, b := range list {
			if b.Name == "bench_primary" {
				return b.State
			}
		}
		return ""
	}
	// waitState polls the breaker until it is in want, for at most limit.
	waitState := func(want string, limit time.Duration) (time.Duration, error) {
		start := time.Now()
		for time.Since(start) < limit {
			if state() == want {
				return time.Since(start), nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		return 0, fmt.Errorf("breaker not %s after %v", want, limit)
	}

	time.Sleep(o.Before)
	primary.ResetCalls()
	primaryRun.Close() // the primary dies
	died := time.Now()
	res.OpenAfterDeath, err = waitState("open", o.Outage)
	if err != nil {
		close(done)
		wg.Wait()
		return res, err
	}
	time.Sleep(time.Until(died.Add(o.Outage)))
	res.PrimaryWhileDown = primary.Calls() // always 0: a closed listener counts nothing
	if primaryRun, err = mockupstream.Start(primaryRun.Addr, primary); err != nil {
		close(done)
		wg.Wait()
		return res, fmt.Errorf("restarting the primary: %w", err)
	}
	defer primaryRun.Close()
	res.ClosedAfterRecover, err = waitState("closed", o.OpenFor+o.After)
	time.Sleep(o.After)
	close(done)
	wg.Wait()
	res.Requests, res.Errors, res.FromBackup = requests.Load(), errs.Load(), backup.Load()
	return res, err
}

// postWith sends one request with client and reads the answer.
func postWith(client *http.Client, url string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = jsonHeader
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func outageReport(o outageOptions, r outageResult) string {
	rate := 0.0
	if r.Requests > 0 {
		rate = float64(r.Errors) / float64(r.Requests)
	}
	return markdownTable(
		[]string{"clients", "outage", "breaker", "requests", "client errors", "error rate", "answered by backup", "death → open", "recovery → closed"},
		[][]string{{
			fmt.Sprint(o.Conns), o.Outage.String(),
			fmt.Sprintf("%d failures / %v, open %v", o.Failures, o.Window, o.OpenFor),
			fmt.Sprint(r.Requests), fmt.Sprint(r.Errors), fmt.Sprintf("%.4f", rate), fmt.Sprint(r.FromBackup),
			r.OpenAfterDeath.Round(time.Millisecond).String(), r.ClosedAfterRecover.Round(time.Millisecond).String(),
		}},
	)
}
