// Command ragproxy is Caddy with its standard modules plus ragproxy's, and a
// `demo` command that runs the proxy in front of a built-in mock LLM.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/ragproxy/ragproxy/caddymodule"
)

func main() {
	caddycmd.Main()
}
