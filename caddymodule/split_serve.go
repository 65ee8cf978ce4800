package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/split"
)

// ServeHTTP assigns the request to a variant, publishes it, and records
// how the variant's answer went.
func (h *SplitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *SplitHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	start := time.Now()
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	v := &h.variants[h.variantFor(r, repl)]

	// The id is always ours: feedback is attributed by it, so a client
	// that chose it could score requests it never got, or replay another
	// client's id to score that request again. A client's own id only
	// reaches the access log.
	clientID := r.Header.Get(contract.HeaderRequestID)
	if !validRequestID(clientID) {
		clientID = ""
	}
	id := newRequestID()
	r.Header[contract.HeaderRequestID] = []string{id} // the upstream logs the same id
	publish(r, contract.VarVariant, v.name)
	// The answer's cost reaches the variant from whichever handler meters
	// it (finishCost), before or after this one returns.
	caddyhttp.SetVar(r.Context(), contract.VarCostRecorder, v.stats)
	publishPlaceholder(r, contract.VarRequestID, id)
	setLogField(r, splitLogFields(v.name, id, clientID))
	// One allocation for both answer headers; each keeps its own slice.
	vals := []string{v.name, id}
	hdr := w.Header()
	hdr[contract.HeaderVariant] = vals[0:1:1]
	hdr[contract.HeaderRequestID] = vals[1:2:2]
	h.experiment.Remember(id, v.name, start)

	aw := watchAnswer(w, r)
	defer aw.release()
	var err error
	completed := false
	// Deferred, so that an answer reverse_proxy aborts with a panic (a
	// stream the client or the upstream cut short) is counted too.
	defer func() {
		clientLeft := aw.clientGone || r.Context().Err() != nil
		v.record(aw, err, time.Since(start), !completed && !clientLeft)
	}()
	err = next.ServeHTTP(aw, r)
	completed = true
	return err
}

// record counts one answer of the variant; broken marks an answer cut
// short by the upstream (one the client left is not an error).
func (v *splitVariant) record(aw *answerWriter, err error, elapsed time.Duration, broken bool) {
	status := aw.Status()
	var he caddyhttp.HandlerError
	if status == 0 && errors.As(err, &he) {
		status = he.StatusCode
	}
	v.stats.Record(split.Outcome{
		Latency:     elapsed,
		Error:       status >= 500 || (err != nil && status == 0) || broken,
		CacheStatus: aw.cacheStatus,
		Tokens:      aw.upstreamTokens(),
	})
	v.duration.Observe(elapsed.Seconds())
}

// splitLogFields is one access-log field that writes rag_variant,
// rag_request_id and, when the client sent one, rag_client_request_id at
// the top level: ExtraLogFields.Set clears a cache of log handlers on
// every call, so one call beats several.
func splitLogFields(variant, requestID, clientID string) zap.Field {
	return zap.Field{Key: "rag_split", Type: zapcore.InlineMarshalerType,
		Interface: splitLog{variant, requestID, clientID}}
}

type splitLog struct{ variant, requestID, clientID string }

func (l splitLog) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("rag_variant", l.variant)
	enc.AddString("rag_request_id", l.requestID)
	if l.clientID != "" {
		enc.AddString("rag_client_request_id", l.clientID)
	}
	return nil
}

// validRequestID accepts a request id that is safe to log or echo: 1 to
// 200 visible ASCII characters.
func validRequestID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
