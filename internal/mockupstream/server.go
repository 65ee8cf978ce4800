package mockupstream

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// maxBody bounds the request bodies the server reads.
const maxBody = 16 << 20

// Server is the mock upstream. It is an [http.Handler]; create it with [New].
// All methods are safe for concurrent use.
type Server struct {
	opts  atomic.Pointer[Options]
	seq   atomic.Int64 // answers given, for ids and request_seq
	calls atomic.Int64 // requests received
	paths sync.Map     // path → *atomic.Int64 requests received

	cacheMu sync.Mutex
	cached  map[[32]byte]struct{} // Anthropic prompt prefixes "in the prompt cache"
}

// New returns a Server configured with opts.
func New(opts Options) *Server {
	s := &Server{cached: map[[32]byte]struct{}{}}
	s.SetOptions(opts)
	return s
}

// SetOptions replaces the server's options; requests already past their
// knob resolution keep the options they started with.
func (s *Server) SetOptions(opts Options) { s.opts.Store(&opts) }

// Options returns the server's current options.
func (s *Server) Options() Options {
	if o := s.opts.Load(); o != nil {
		return *o
	}
	return Options{}
}

// Calls returns the number of requests received on any path, counted on
// arrival (failed, dropped and rejected requests included).
func (s *Server) Calls() int64 { return s.calls.Load() }

// CallsTo returns the number of requests received for path, e.g.
// "/v1/chat/completions".
func (s *Server) CallsTo(path string) int64 {
	if c, ok := s.paths.Load(path); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// ResetCalls sets the request counters back to zero. It does not reset the
// answer sequence numbers.
func (s *Server) ResetCalls() {
	s.calls.Store(0)
	s.paths.Clear()
}

// count records the arrival of a request for path.
func (s *Server) count(path string) {
	s.calls.Add(1)
	c, ok := s.paths.Load(path)
	if !ok {
		c, _ = s.paths.LoadOrStore(path, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

// next returns the next answer sequence number, starting at 1.
func (s *Server) next() int64 { return s.seq.Add(1) }

// route is an endpoint: its method and its handler.
type route struct {
	method string
	handle func(*Server, *exchange)
}

// routes maps each path to its endpoint.
var routes = map[string]route{
	"/v1/chat/completions": {http.MethodPost, (*Server).chat},
	"/v1/completions":      {http.MethodPost, (*Server).completion},
	"/v1/messages":         {http.MethodPost, (*Server).messages},
	"/v1/embeddings":       {http.MethodPost, (*Server).embeddings},
	"/query":               {http.MethodPost, (*Server).query},
	"/v1/models":           {http.MethodGet, (*Server).models},
	"/healthz":             {http.MethodGet, (*Server).health},
}

// ServeHTTP counts the request, reads its body, applies the latency, drop
// and failure knobs, then dispatches it to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.count(r.URL.Path)
	ex := &exchange{w: w, r: r, k: resolveKnobs(s.Options(), r.Header)}
	// Reading the body first lets the request context observe a client
	// that goes away during the latency wait.
	body, bodyErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	ex.body = body

	if !pause(r.Context(), ex.k.latency) {
		return
	}
	if ex.k.drop == DropBefore {
		cut(w)
		return
	}
	if ex.k.failStatus != 0 {
		ex.mockFailure()
		return
	}

	rt, ok := routes[r.URL.Path]
	switch {
	case !ok:
		ex.apiError(http.StatusNotFound, "invalid_request_error", "unknown_url", "unknown path "+r.URL.Path)
	case r.Method != rt.method:
		w.Header().Set("Allow", rt.method)
		ex.apiError(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed",
			r.Method+" is not allowed on "+r.URL.Path+", use "+rt.method)
	case bodyErr != nil:
		if _, tooLarge := errors.AsType[*http.MaxBytesError](bodyErr); tooLarge {
			ex.apiError(http.StatusRequestEntityTooLarge, "invalid_request_error", nil, "request body too large")
			return
		}
		ex.apiError(http.StatusBadRequest, "invalid_request_error", nil, "reading request body: "+bodyErr.Error())
	default:
		rt.handle(s, ex)
	}
}

// models answers GET /v1/models.
func (s *Server) models(ex *exchange) {
	type model struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	ex.json(http.StatusOK, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", []model{{defaultModel, "model"}}})
}

// health answers GET /healthz.
func (s *Server) health(ex *exchange) {
	ex.send(http.StatusOK, "text/plain; charset=utf-8", []byte("ok"))
}
