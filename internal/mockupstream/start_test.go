package mockupstream

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStart(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", ":0"} {
		r, err := Start(addr, New(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Addr, "127.0.0.1:") || r.URL != "http://"+r.Addr {
			t.Errorf("%s: Addr %q, URL %q", addr, r.Addr, r.URL)
		}
		resp, err := http.Get(r.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Errorf("healthz %q", b)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := http.Get(r.URL + "/healthz"); err == nil {
			t.Error("server still answering after Close")
		}
	}
}
