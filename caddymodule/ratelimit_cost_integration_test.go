package caddymodule_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestRateLimitCostBudget: a budget zone counts dollars, through a real
// Caddy with openai-go. Each pricedUpstream answer uses 2M prompt tokens
// (1M read from the prompt cache) and 1M completion tokens: $0.825 for
// gpt-4o-mini (cached input priced as cached), $91.50 for a model the
// table does not know, priced at the table's dearest price (claude-opus-4-1:
// $15 input, $1.50 cached, $75 output). On a $100/h budget per team the
// unknown model is refused its third request, after $183 was spent, while
// gpt-4o-mini is not; on a $1/h budget gpt-4o-mini is refused its third
// request, after $1.65.
func TestRateLimitCostBudget(t *testing.T) {
	up := pricedUpstream(t)
	p := startCaddy(t, `http://{SITE} {
	rag_rate_limit {
		zone team_usd {
			key {http.request.header.X-Team}
			budget 100/h
		}
		zone small_usd {
			key {http.request.header.X-Small}
			budget $1/h
		}
	}
	reverse_proxy `+up+`
}`)
	client := newClient(p, "sk-x")
	ask := func(model string, header ...string) error {
		params := chatParams("how much?")
		params.Model = model
		opts := []option.RequestOption{}
		for i := 0; i+1 < len(header); i += 2 {
			opts = append(opts, option.WithHeader(header[i], header[i+1]))
		}
		_, err := client.Chat.Completions.New(context.Background(), params, opts...)
		return err
	}
	refused := func(err error) bool {
		var apiErr *openai.Error
		return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests
	}

	for i := range 2 {
		if err := ask("mystery-model", "X-Team", "unknown"); err != nil {
			t.Fatalf("unknown model, request %d of a $100 budget: %v", i+1, err)
		}
	}
	if err := ask("mystery-model", "X-Team", "unknown"); !refused(err) {
		t.Fatalf("unknown model after $183 of a $100/h budget: %v, want 429", err)
	}
	for i := range 3 {
		if err := ask("gpt-4o-mini", "X-Team", "known"); err != nil {
			t.Fatalf("gpt-4o-mini, request %d ($%.3f spent of $100): %v", i+1, 0.825*float64(i), err)
		}
	}

	for i := range 2 {
		if err := ask("gpt-4o-mini", "X-Small", "s"); err != nil {
			t.Fatalf("gpt-4o-mini, request %d of a $1 budget: %v", i+1, err)
		}
	}
	err := ask("gpt-4o-mini", "X-Small", "s")
	if !refused(err) {
		t.Fatalf("after $1.65 of a $1/h budget: %v, want 429", err)
	}
	var apiErr *openai.Error
	errors.As(err, &apiErr)
	if apiErr.Type != "budget" || apiErr.Code != "rate_limit_exceeded" {
		t.Fatalf("refusal type %q code %q, want budget, rate_limit_exceeded", apiErr.Type, apiErr.Code)
	}
	if err := ask("gpt-4o-mini", "X-Small", "other"); err != nil {
		t.Fatalf("another key of the $1 zone: %v", err)
	}
}
