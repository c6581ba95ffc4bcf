package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The proxy in front of two backends: requests alternate; a backend that refuses
// connections is skipped and the request (a POST, body and all) answered by the other;
// a request in flight on a backend the test killed (sent before or after the kill) gets a
// 502 marked as cut, and one on a backend that failed by itself a 502 without the mark.
func TestProxy(t *testing.T) {
	var hits [2]atomic.Int64
	hang := make(chan struct{})
	arrived := make(chan struct{}, 1)
	backends := make([]*httptest.Server, 2)
	for i := range backends {
		backends[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			if r.URL.Path == "/reset" { // dies in the middle of the request
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
			if r.URL.Path == "/hang" {
				arrived <- struct{}{}
				<-hang
				return
			}
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Backend", string(rune('0'+i)))
			w.Write(b)
		}))
	}
	defer func() {
		for _, b := range backends {
			b.Close()
		}
	}()
	p, err := startProxy("127.0.0.1", []string{backends[0].URL, backends[1].URL})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	post := func(path, body string) *http.Response {
		t.Helper()
		resp, err := http.Post(p.base+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	for i := range 4 {
		resp := post("/echo", "hello")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "hello" {
			t.Fatalf("request %d: %s %q, want 200 and the body echoed", i, resp.Status, b)
		}
	}
	if hits[0].Load() != 2 || hits[1].Load() != 2 {
		t.Errorf("4 requests reached the backends %d and %d times; want 2 and 2 (round-robin)", hits[0].Load(), hits[1].Load())
	}

	// A request hangs on one backend, which the test then "kills".
	done := make(chan *http.Response)
	go func() {
		resp, err := http.Post(p.base+"/hang", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	<-arrived
	victim := 0
	if hits[1].Load() == 3 {
		victim = 1
	}
	p.killed(victim)
	backends[victim].CloseClientConnections()
	resp := <-done
	if resp == nil {
		t.FailNow()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(cutHeader) == "" {
		t.Errorf("the request in flight on the killed backend: %s, %s=%q; want 502 marked as cut", resp.Status, cutHeader, resp.Header.Get(cutHeader))
	}
	close(hang)

	// A request that arrives after the kill but reaches the killed backend before the
	// proxy knows it is gone (a pooled connection, reset) is cut too; the same failure on
	// the survivor is not.
	for range 2 {
		before := [2]int64{hits[0].Load(), hits[1].Load()}
		resp := post("/reset", "x")
		resp.Body.Close()
		on := 0
		if hits[1].Load() > before[1] {
			on = 1
		}
		marked := resp.Header.Get(cutHeader) != ""
		if resp.StatusCode != http.StatusBadGateway || marked != (on == victim) {
			t.Errorf("a reset after the kill on backend %d (killed: %d): %s, marked as cut %v; want 502, marked only on the killed one", on, victim, resp.Status, marked)
		}
	}

	// Gone for good: its connections are refused, and every POST goes to the survivor.
	backends[victim].Close()
	for i := range 4 {
		resp := post("/echo", "after")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "after" || resp.Header.Get("Backend") != string(rune('0'+1-victim)) {
			t.Errorf("request %d after the kill: %s %q from backend %q; want 200, the body, backend %d", i, resp.Status, b, resp.Header.Get("Backend"), 1-victim)
		}
	}

	// The survivor fails by itself: a 502 without the mark, which fails a load run.
	backends[1-victim].Close()
	resp = post("/echo", "none")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(cutHeader) != "" {
		t.Errorf("no backend up: %s, %s=%q; want 502 without the mark", resp.Status, cutHeader, resp.Header.Get(cutHeader))
	}
}
