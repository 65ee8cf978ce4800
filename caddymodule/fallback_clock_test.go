package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/breaker"
)

func waitCause(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(10 * time.Second):
		t.Fatal("the tier clock never ran out")
		return nil
	}
}

// TestTierClockPausesForTheClient: time blocked on the client does not
// count against the tier's timeout; the tier's own time still does.
func TestTierClockPausesForTheClient(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	c := startTierClock(time.Second, cancel)
	defer c.stop()
	c.pause() // the client blocks a write for longer than the whole budget
	time.Sleep(1500 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("the clock ran out while the client blocked a write")
	}
	c.resume()
	if ctx.Err() != nil {
		t.Fatal("the clock ran out as the client's write returned, with the tier's budget unspent")
	}
	if err := waitCause(t, ctx); !errors.Is(err, errTierTimeout) {
		t.Errorf("cause %v, want the tier timeout", err)
	}
}

func TestTierClockRunsOut(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	c := startTierClock(50*time.Millisecond, cancel)
	defer c.stop()
	for range 3 { // short client writes do not stop the clock
		c.pause()
		c.resume()
	}
	if err := waitCause(t, ctx); !errors.Is(err, errTierTimeout) {
		t.Errorf("cause %v, want the tier timeout", err)
	}
}

// failingClient is a client connection whose writes fail after the
// headers, as with a reset connection or a server write timeout.
type failingClient struct{ *httptest.ResponseRecorder }

func (failingClient) Write([]byte) (int, error) { return 0, errors.New("write: broken pipe") }

// TestFallbackClientWriteErrorIsNotAFailure: an answer cut because the
// client's connection failed says nothing about the upstream.
func TestFallbackClientWriteErrorIsNotAFailure(t *testing.T) {
	br := breaker.New("client_write_error", breaker.Config{Failures: 1, Window: time.Minute, Open: time.Minute}, nil)
	tier := &Tier{
		Name:       "client_write_error",
		Timeout:    caddy.Duration(time.Second),
		breaker:    br,
		failStatus: breaker.DefaultFailStatuses,
		metrics:    newTierMetrics("client_write_error"),
		handler: caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusOK)
			if _, err := w.Write([]byte("answer")); err != nil {
				panic(http.ErrAbortHandler) // as reverse_proxy does
			}
			return nil
		}),
	}
	h := &FallbackHandler{Tiers: []*Tier{tier}, MaxBody: 1 << 20, logger: zap.NewNop()}
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("panic %v, want the abort re-raised", p)
			}
		}()
		h.ServeHTTP(failingClient{httptest.NewRecorder()}, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil), nil)
	}()
	if s := br.State(); s != breaker.Closed {
		t.Errorf("breaker %v after the client's write failed, want closed", s)
	}
}
