package caddymodule_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// childConfigEnv names the config a child test process runs as a second
// Caddy instance (Caddy is a singleton: two instances need two processes).
const childConfigEnv = "RAGPROXY_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConfigEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// runChild runs a Caddy config until its parent closes stdin (or dies).
func runChild(path string) int {
	cfg, err := os.ReadFile(path)
	if err == nil {
		err = caddy.Load(cfg, true)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child caddy:", err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = caddy.Stop()
	return 0
}

// startChildCaddy runs a Caddyfile (a template, as for startCaddy) in a
// second process: another instance of the proxy, as behind a load balancer.
func startChildCaddy(t *testing.T, caddyfile string) *proxy {
	t.Helper()
	site, admin := freeAddr(t), freeAddr(t)
	cf := strings.NewReplacer("{SITE}", site, "{ADMIN}", admin).Replace(caddyfile)
	cf = fmt.Sprintf("{\n\tadmin %s\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\toutput discard\n\t}\n}\n%s", admin, cf)
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, cf)
	}
	path := filepath.Join(t.TempDir(), "child.json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	waitDial(t, site)
	return &proxy{t: t, URL: "http://" + site, Admin: "http://" + admin, config: cfg}
}
