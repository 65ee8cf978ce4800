package caddymodule_test

import (
	"net"
	"net/http"
	"runtime"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// A reserved address cannot be taken by a plain bind until it is
// released, and Caddy (which sets SO_REUSEPORT) binds it while it is held.
func TestReserveAddrHoldsThePort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reserveAddr only holds the port on Linux")
	}
	addr, release := reserveAddr(t)
	defer release()
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("%s bound by another listener while reserved", addr)
	}
	cf := "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\toutput discard\n\t}\n}\nhttp://" + addr + " {\n\trespond 204\n}\n"
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("Caddy could not bind the reserved %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	release()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("Caddy on the reserved address answered %d", resp.StatusCode)
	}
}
