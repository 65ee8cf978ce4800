package caddymodule_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3/option"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// spans is the in-memory exporter Caddy's tracing sends to in these
// tests: OTEL_TRACES_EXPORTER=ragproxy-test picks it.
var (
	spans         = tracetest.NewInMemoryExporter()
	registerSpans sync.Once
)

func traceToMemory(t *testing.T) {
	registerSpans.Do(func() {
		autoexport.RegisterSpanExporter("ragproxy-test", func(context.Context) (sdktrace.SpanExporter, error) {
			return spans, nil
		})
	})
	t.Setenv("OTEL_TRACES_EXPORTER", "ragproxy-test")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20") // ms: spans reach the exporter at once
	spans.Reset()
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// TestTracing: with Caddy's tracing on, the request's span carries what
// ragproxy decided (cache status, tier, variant, request id), an event
// for the tier that failed, and each tier try is a child span with its
// outcome. The access log of the same request tells the same story.
func TestTracing(t *testing.T) {
	traceToMemory(t)
	_, primary := startMock(t, mockupstream.Options{})
	_, backup := startMock(t, mockupstream.Options{})
	logDirective, logPath := accessLog(t)
	p := startCaddy(t, `http://{SITE} {
	`+logDirective+`
	tracing {
		span ragproxy
	}
	rag_split t_exp {
		variant t_a 1
	}
	rag_cache t_cache
	rag_fallback {
		tier t_primary {
			reverse_proxy `+primary+`
		}
		tier t_backup {
			header_up X-Mock-Status 0
			reverse_proxy `+backup+`
		}
	}
}
`)
	resp := askWith(t, newClient(p, "key-t"), chatParams("trace me"), option.WithHeader("X-Mock-Status", "500"))
	if resp.Header.Get("X-Rag-Upstream") != "t_backup" {
		t.Fatalf("X-RAG-Upstream %q, want t_backup", resp.Header.Get("X-Rag-Upstream"))
	}

	var server tracetest.SpanStub
	var tiers []tracetest.SpanStub
	eventually(t, "the request's spans", func() bool {
		server, tiers = tracetest.SpanStub{}, nil
		for _, s := range spans.GetSpans() {
			switch s.Name {
			case "ragproxy":
				server = s
			case "rag_fallback tier t_primary", "rag_fallback tier t_backup":
				tiers = append(tiers, s)
			}
		}
		return server.Name != "" && len(tiers) == 2
	})
	got := attrs(server.Attributes)
	for k, want := range map[string]string{
		"rag.cache.status": "MISS", "rag.upstream": "t_backup", "rag.variant": "t_a", "rag.status": "200",
	} {
		if got[k] != want {
			t.Errorf("request span %s = %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
	if got["rag.request_id"] != resp.Header.Get("X-Request-Id") {
		t.Errorf("request span rag.request_id %q, answer's X-Request-ID %q", got["rag.request_id"], resp.Header.Get("X-Request-Id"))
	}
	failed := false
	for _, e := range server.Events {
		a := attrs(e.Attributes)
		failed = failed || e.Name == "rag_fallback: tier failed" && a["rag.tier"] == "t_primary" && a["rag.reason"] == "status" && a["rag.next"] == "t_backup"
	}
	if !failed {
		t.Errorf("no event for the failed primary tier: %+v", server.Events)
	}
	for _, s := range tiers {
		if s.Parent.SpanID() != server.SpanContext.SpanID() || s.SpanContext.TraceID() != server.SpanContext.TraceID() {
			t.Errorf("%s is not a child of the request's span", s.Name)
		}
		a := attrs(s.Attributes)
		switch s.Name {
		case "rag_fallback tier t_primary":
			if a["rag.outcome"] != "failure" || a["rag.reason"] != "status" || a["http.response.status_code"] != "500" || s.Status.Code != codes.Error {
				t.Errorf("primary try span: %v, status %v", a, s.Status)
			}
		case "rag_fallback tier t_backup":
			if a["rag.outcome"] != "success" || a["rag.breaker.state"] != "closed" || s.Status.Code == codes.Error {
				t.Errorf("backup try span: %v, status %v", a, s.Status)
			}
		}
	}

	// The access log line of the same request says the same.
	var entry map[string]any
	eventually(t, "the access log line", func() bool {
		f, err := os.Open(logPath)
		if err != nil {
			return false
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil && e["traceID"] != nil {
				entry = e
			}
		}
		return entry != nil
	})
	for logField, spanAttr := range map[string]string{
		"rag_cache": "rag.cache.status", "rag_variant": "rag.variant", "rag_request_id": "rag.request_id",
	} {
		if entry[logField] != got[spanAttr] {
			t.Errorf("access log %s = %v, span %s = %q", logField, entry[logField], spanAttr, got[spanAttr])
		}
	}
	if entry["traceID"] != server.SpanContext.TraceID().String() {
		t.Errorf("access log traceID %v, span's %s", entry["traceID"], server.SpanContext.TraceID())
	}
}
