package mockupstream

import (
	"net"
	"net/http"
	"time"
)

// Running is a Server listening on a TCP address; see [Start].
type Running struct {
	URL  string // base URL, e.g. "http://127.0.0.1:8081"
	Addr string // host:port, e.g. "127.0.0.1:8081"

	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves s until
// Close is called. An unspecified listen host (":0", "0.0.0.0:0") is
// reported as 127.0.0.1.
func Start(addr string, s *Server) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	r := &Running{
		Addr: net.JoinHostPort(host, port),
		srv:  &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	r.URL = "http://" + r.Addr
	go func() {
		defer close(r.done)
		r.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return r, nil
}

// Close stops the server, closing the listener and all connections, and
// waits for the serving goroutine to return.
func (r *Running) Close() error {
	err := r.srv.Close()
	<-r.done
	return err
}
