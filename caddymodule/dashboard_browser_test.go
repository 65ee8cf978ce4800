package caddymodule_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// chromium returns the path of Debian's chromium. Without it the test is
// skipped, unless RAGPROXY_REQUIRE_CHROMIUM=1 (set by .ci/run) makes that
// a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("RAGPROXY_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium not found")
	}
	t.Skip("chromium not installed (apt-get install -y chromium)")
	return ""
}

// TestDashboardInBrowser opens the status page in a real headless
// Chromium: it loads with no console error or exception, shows a breaker
// turning open within a few seconds of its upstream dying, and renders a
// request path holding <script> as text. With RAGPROXY_SCREENSHOT=<file>
// it writes a PNG of the page there (the README's).
func TestDashboardInBrowser(t *testing.T) {
	exe := chromium(t)
	_, backup := startMock(t, mockupstream.Options{})
	primary, err := mockupstream.Start("127.0.0.1:0", mockupstream.New(mockupstream.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	p := startCaddy(t, `http://{SITE} {
	handle_path /ragproxy/* {
		rag_dashboard
	}
	handle {
		rag_rate_limit {
			zone users {
				key {http.request.header.X-User}
				rate 2/m
			}
		}
		rag_split answer_style {
			sticky {http.request.header.X-User}
			variant concise 1
			variant detailed 1
		}
		rag_cache answers
		rag_fallback {
			tier gpt_primary {
				breaker {
					failures 2
					open 1m
				}
				reverse_proxy `+primary.Addr+`
			}
			tier small_model {
				reverse_proxy `+backup+`
			}
		}
	}
}
`)
	// Six users ask their question twice (a miss, then a hit in their
	// variant); one asks too often and is refused.
	for i := range 12 {
		user := fmt.Sprintf("user-%d", i%6)
		post(t, p.URL+"/v1/chat/completions", modelBody("gpt-4o-mini", "question of "+user), "Authorization", "Bearer sk-browser", "X-User", user)
	}
	for range 2 {
		post(t, p.URL+"/v1/chat/completions", modelBody("gpt-4o-mini", "once more"), "Authorization", "Bearer sk-browser", "X-User", "user-0")
	}
	post(t, p.URL+"/v1/chat/completions/%3Cscript%3Ewindow.pwned=1%3C/script%3E", chatBody("x", false))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1400))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var consoleErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				consoleErrors = append(consoleErrors, fmt.Sprintf("console.%s %d args", e.Type, len(e.Args)))
			}
		case *runtime.EventExceptionThrown:
			consoleErrors = append(consoleErrors, fmt.Sprintf("exception: %s", e.ExceptionDetails.Text))
		}
	}); err != nil {
		t.Fatal(err)
	}

	url := p.URL + "/ragproxy/"
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(`#breakers tbody tr`)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	updated, err := chromedp.Run(ctx, chromedp.Text(`#updated`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(updated, "updated") {
		t.Errorf("status line %q: the page did not render its data", updated)
	}

	// The primary dies: the page shows its breaker open within seconds.
	primary.Close()
	died := time.Now()
	for i := range 2 {
		post(t, p.URL+"/v1/chat/completions", chatBody(fmt.Sprintf("during the outage %d", i), false), "Authorization", "Bearer sk-browser")
	}
	openCtx, cancelOpen := context.WithTimeout(ctx, 5*time.Second)
	defer cancelOpen()
	if err := chromedp.Do(openCtx, chromedp.WaitVisible(`#breakers td.state-open`)); err != nil {
		t.Fatalf("breaker not shown open within 5s of the upstream dying: %v", err)
	}
	t.Logf("breaker shown open %v after the upstream died", time.Since(died).Round(time.Millisecond))
	transition, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#breakers td.transitions').textContent.includes('closed \u2192 open')`))
	if err != nil {
		t.Fatal(err)
	}
	if !transition {
		t.Error("the breaker's transition closed → open is not shown")
	}

	shownAsText, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#recent').textContent.includes('<script>window.pwned=1</script>')`))
	if err != nil {
		t.Fatal(err)
	}
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pwned === 1 || document.querySelectorAll('#recent script').length > 0`))
	if err != nil {
		t.Fatal(err)
	}
	// Tokens and cost from the answers' usage: a miss costs, a hit saves.
	costs, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const t = document.querySelector('#recent').textContent; return / \/ \d/.test(t) && /\$\d/.test(t) && t.includes('saved $'); })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !costs {
		t.Error("the last requests show no tokens, cost or saving")
	}
	if !shownAsText || injected {
		t.Errorf("a path holding <script>: shown as text %v, injected %v", shownAsText, injected)
	}
	if path := os.Getenv("RAGPROXY_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Errorf("console errors: %v", consoleErrors)
	}
}
