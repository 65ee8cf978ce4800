package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/split"
)

func init() {
	caddy.RegisterModule(FeedbackHandler{})
}

// maxFeedbackBody bounds a feedback request body.
const maxFeedbackBody = 64 << 10

// FeedbackHandler takes users' scores of answers and attributes each to
// the variant of the rag_split experiment that served the answer:
//
//	POST {"request_id": "<X-Request-ID of the answer>", "score": <number>}
//
// Thumbs up/down are 1/0 (compared as proportions); any other number is a
// rating (compared by mean). Only ids rag_split issued count, once each.
// Malformed input, a score that is not a number within score_range, and
// unknown or expired request ids get 400, a second score for one request
// 409, each with an OpenAI-shaped JSON error; a refused score does not use
// the request up. It answers every request that reaches it.
type FeedbackHandler struct {
	// Name of the experiment, as given to rag_split. Required.
	Experiment string `json:"experiment"`

	// Smallest and largest score accepted, [min, max], finite, min < max,
	// each within ±1e15 (split.MaxScore). A score outside gets 400, so one
	// caller cannot drag a mean far, nor overflow the statistics. Several
	// rag_feedback handlers of one experiment should share one range.
	// Default: [-100, 100].
	ScoreRange []float64 `json:"score_range,omitempty"`

	experiment         *split.Experiment
	minScore, maxScore float64
}

// Default score range: thumbs (0/1), ratings, and signed scores alike.
const (
	defaultMinScore = -100
	defaultMaxScore = 100
)

// CaddyModule returns the Caddy module information.
func (FeedbackHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_feedback",
		New: func() caddy.Module { return new(FeedbackHandler) },
	}
}

// Provision sets the score range and attaches the experiment (created
// here if rag_split's route is provisioned later). Caddy calls Validate
// after it.
func (h *FeedbackHandler) Provision(ctx caddy.Context) error {
	h.minScore, h.maxScore = defaultMinScore, defaultMaxScore
	if len(h.ScoreRange) == 2 { // any other length fails Validate
		h.minScore, h.maxScore = h.ScoreRange[0], h.ScoreRange[1]
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.experiment = acquireExperiment(h.Experiment)
	return nil
}

// Validate checks the configuration, JSON or Caddyfile alike.
func (h *FeedbackHandler) Validate() error {
	if h.Experiment == "" {
		return fmt.Errorf("rag_feedback: experiment name is required")
	}
	if h.ScoreRange != nil {
		if err := checkScoreRange(h.ScoreRange); err != nil {
			return fmt.Errorf("rag_feedback %q: %w", h.Experiment, err)
		}
	}
	return nil
}

// checkScoreRange validates a configured [min, max].
func checkScoreRange(r []float64) error {
	if len(r) != 2 {
		return fmt.Errorf("score_range must be [min, max], got %d numbers", len(r))
	}
	lo, hi := r[0], r[1]
	if !(lo >= -split.MaxScore && hi <= split.MaxScore && lo < hi) { // NaN fails too
		return fmt.Errorf("score_range must be finite, min < max, within ±%g; got [%g, %g]", split.MaxScore, lo, hi)
	}
	return nil
}

// Cleanup lets go of the experiment.
func (h *FeedbackHandler) Cleanup() error {
	if h.experiment != nil {
		_, _ = experiments.Delete(h.Experiment)
	}
	return nil
}

// feedbackRequest is the body rag_feedback accepts.
type feedbackRequest struct {
	RequestID *string `json:"request_id"`
	// Score is kept raw, so that a string, a boolean or a number too large
	// for a float64 is told apart from malformed JSON.
	Score json.RawMessage `json:"score"`
}

// parseScore reads a JSON number within [lo, hi]; ok is false for anything
// else: another JSON type, a number that overflows a float64, or one out
// of range.
func parseScore(raw json.RawMessage, lo, hi float64) (score float64, ok bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || !(x >= lo && x <= hi) {
		return 0, false
	}
	return x, true
}

func (h *FeedbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "feedback is sent with POST")
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFeedbackBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return writeBodyTooLarge(w, maxFeedbackBody)
	case err != nil:
		return caddyhttp.Error(http.StatusBadRequest, err)
	}
	var req feedbackRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json",
			`want a JSON object {"request_id": "<X-Request-ID>", "score": <number>}`)
		return nil
	}
	switch {
	case req.RequestID == nil || *req.RequestID == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_request_id", "request_id is required: the X-Request-ID of the answer")
		return nil
	case len(req.Score) == 0 || string(req.Score) == "null":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_score", "score is required: 1 or 0 for thumbs up or down, or a rating")
		return nil
	}
	score, ok := parseScore(req.Score, h.minScore, h.maxScore)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_score",
			fmt.Sprintf("score must be a number from %g to %g", h.minScore, h.maxScore))
		return nil
	}
	if !validRequestID(*req.RequestID) { // not one rag_split issues: no need to look, nor to echo it
		writeError(w, http.StatusBadRequest, "invalid_request_error", "unknown_request_id",
			fmt.Sprintf("experiment %q served no recent request with that id", h.Experiment))
		return nil
	}
	variant, err := h.experiment.Feedback(*req.RequestID, score, time.Now())
	switch {
	case errors.Is(err, split.ErrUnknownRequest):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "unknown_request_id",
			fmt.Sprintf("experiment %q served no recent request with id %q", h.Experiment, *req.RequestID))
		return nil
	case errors.Is(err, split.ErrDuplicateFeedback):
		writeError(w, http.StatusConflict, "invalid_request_error", "duplicate_feedback",
			fmt.Sprintf("request %q already has a score", *req.RequestID))
		return nil
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_score", err.Error())
		return nil
	}
	out, _ := json.Marshal(map[string]any{"experiment": h.Experiment, "request_id": *req.RequestID, "variant": variant, "score": score})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*FeedbackHandler)(nil)
	_ caddy.Validator             = (*FeedbackHandler)(nil)
	_ caddy.CleanerUpper          = (*FeedbackHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*FeedbackHandler)(nil)
)
