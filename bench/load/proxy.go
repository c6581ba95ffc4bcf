package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// cutHeader marks the proxy's 502 for a request that was in flight on a backend when the
// load test killed it: in doubt, not a failure of the survivors.
const cutHeader = "Satmark-Load-Cut"

// proxy is a small round-robin reverse proxy on a loopback port in front of several
// satmark serve processes, as a load balancer would be. A backend that refuses a
// connection is taken out of the rotation and the request goes to the next one (it was
// never sent, so even a POST is safe to retry); an error after the request was sent is a
// 502, marked with cutHeader when that backend is one the test killed.
type proxy struct {
	backends []*backend
	next     atomic.Uint64
	srv      *http.Server
	base     string // http://127.0.0.1:PORT
	errors   atomic.Int64
}

type backend struct {
	url          *url.URL
	down         atomic.Bool // refused a connection: out of the rotation
	killedByTest atomic.Bool // the test SIGKILLed it (or is about to)
}

// attempt is where a request went, kept in its context for the error handler.
type attempt struct {
	backend atomic.Pointer[backend]
}

type attemptKey struct{}

// startProxy listens on host's free port and forwards to the backends' base URLs.
func startProxy(host string, bases []string) (*proxy, error) {
	p := &proxy{}
	for _, b := range bases {
		u, err := url.Parse(b)
		if err != nil {
			return nil, err
		}
		p.backends = append(p.backends, &backend{url: u})
	}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	rp := &httputil.ReverseProxy{
		Rewrite:      func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", "placeholder" },
		Transport:    roundRobin{p: p, transport: transport},
		ErrorHandler: p.failed,
		// The live event stream (SSE) flows at once.
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0), // each failure is counted and answered instead
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	p.base = "http://" + ln.Addr().String()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &attempt{}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), attemptKey{}, a)))
	})
	p.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// killed tells the proxy the test is about to SIGKILL backend i.
func (p *proxy) killed(i int) { p.backends[i].killedByTest.Store(true) }

func (p *proxy) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

// failed answers a request that no backend answered.
func (p *proxy) failed(w http.ResponseWriter, r *http.Request, err error) {
	if a, ok := r.Context().Value(attemptKey{}).(*attempt); ok {
		if b := a.backend.Load(); b != nil {
			// Sent to a backend the test killed, before the kill or after it but before
			// the proxy saw it gone (a pooled connection reset): the kill's doing.
			if b.killedByTest.Load() {
				w.Header().Set(cutHeader, b.url.Host)
			}
		}
	}
	p.errors.Add(1)
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, `{"error":{"code":"bad_gateway","message":%q}}`, err.Error())
}

// roundRobin sends each request to the next backend up, skipping (and marking down) any
// that refuses the connection.
type roundRobin struct {
	p         *proxy
	transport *http.Transport
}

func (rr roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	// The request bodies are small JSON: kept, so a request can be sent again after a
	// refused connection (and the transport may retry it on a pooled connection found dead).
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	var lastErr error
	for range len(rr.p.backends) {
		b := rr.p.pick()
		if b == nil {
			break
		}
		if a != nil {
			a.backend.Store(b)
		}
		out := req.Clone(req.Context())
		out.URL.Host = b.url.Host
		out.Host = b.url.Host
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		resp, err := rr.transport.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !connRefused(err) {
			// Sent (or partly): only the client may decide to send it again.
			return nil, err
		}
		b.down.Store(true)
	}
	if lastErr == nil {
		lastErr = errors.New("no backend is up")
	}
	return nil, lastErr
}

// pick is the next backend in the rotation that is not down, or nil.
func (p *proxy) pick() *backend {
	n := uint64(len(p.backends))
	start := p.next.Add(1)
	for i := range n {
		if b := p.backends[(start+i)%n]; !b.down.Load() {
			return b
		}
	}
	return nil
}

// connRefused says the backend did not take the connection, so the request was not sent.
func connRefused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}
