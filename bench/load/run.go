package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// Report is what one run measured and found.
type Report struct {
	Config        Config
	Stats         map[string]*opStats // by operation, and "all"
	LoadTime      time.Duration       // under load, the downtime after a kill left out
	KilledAt      time.Duration       // when the server was killed, 0 for none
	Downtime      time.Duration       // from the kill until the load resumed
	ServerCPU     time.Duration       // CPU time (user and system) of satmark serve, every life of it
	Verifications []*verification
	ErrorLines    int      // level=ERROR lines in the server logs
	Broken        int      // 2xx answers whose body was not what the API promises
	Unexpected    []string // the first unexpected answers, for the report
	Writes        []write  // the journal
	Problems      []string // why the run fails; none when it passes
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Passed says whether every check passed.
func (r *Report) Passed() bool { return len(r.Problems) == 0 }

// Run performs one load run as cfg says, writing progress to progress. An error means
// the run could not be carried out; a run that was carried out returns its report, whose
// Problems say what failed.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	say := func(format string, args ...any) { fmt.Fprintf(progress, "load: "+format+"\n", args...) }
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(cfg.Data); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("the data folder %s is not empty: the load test needs a fresh one", cfg.Data)
	}
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(cfg.Satmark)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.Data, "satmark.db")

	say("seeding %s", cfg.Data)
	if _, err := satmark(ctx, bin, "", "seed", "--data", cfg.Data); err != nil {
		return nil, err
	}
	t0 := time.Now()
	accounts, err := createAccounts(ctx, bin, cfg.Data, cfg.Analysts)
	if err != nil {
		return nil, err
	}
	say("created %d analyst accounts and API tokens in %.1f s", len(accounts), time.Since(t0).Seconds())
	jf, err := os.Create(filepath.Join(cfg.Data, "load-journal.jsonl"))
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	j := &journal{f: jf}

	logs := []string{filepath.Join(cfg.Data, "load-serve-1.log")}
	srv, err := startServer(ctx, bin, cfg.Host, cfg.Data, logs[0])
	if err != nil {
		return nil, err
	}
	defer func() { srv.kill() }() // a no-op once it has stopped
	say("satmark serves %s", srv.base)

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.Analysts + 2,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	images, labels, err := fetchWorld(ctx, client, srv.base, accounts[0].token, cfg.Images)
	if err != nil {
		return nil, err
	}

	rep := &Report{Config: cfg, Stats: newStats()}
	g := newGate(srv.base, cfg.Analysts)
	analysts := make([]*analyst, cfg.Analysts)
	for i, acc := range accounts {
		analysts[i] = &analyst{name: acc.name, token: acc.token, client: client, images: images, labels: labels,
			think: cfg.Think, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), gate: g, journal: j, stats: newStats()}
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	start := time.Now()
	for _, a := range analysts {
		wg.Go(func() { a.run(loadCtx) })
	}
	say("%d analysts at work for %s", cfg.Analysts, cfg.Duration)

	if cfg.KillAfter > 0 {
		if !underLoad(ctx, srv, cfg.KillAfter) {
			return abort(stopLoad, &wg, srv)
		}
		g.down()
		srv.kill()
		rep.ServerCPU += srv.cpu
		rep.KilledAt = time.Since(start)
		down := time.Now()
		transport.CloseIdleConnections()
		g.waitHeld()
		say("killed satmark serve with SIGKILL %.1f s into the run; restarting it on the same data", rep.KilledAt.Seconds())
		logs = append(logs, filepath.Join(cfg.Data, "load-serve-2.log"))
		restarted, err := startServer(ctx, bin, cfg.Host, cfg.Data, logs[1])
		if err != nil {
			return nil, fmt.Errorf("restart after SIGKILL: %w", err)
		}
		srv = restarted
		say("satmark serves %s again; checking the database and the API", srv.base)
		v, err := verify(ctx, dbPath, j.all())
		if err != nil {
			return nil, fmt.Errorf("checking after the restart: %w", err)
		}
		v.When = "after the SIGKILL and restart (server up, load held)"
		if err := compareAPI(ctx, v, client, srv.base, accounts[0].token, dbPath, images); err != nil {
			return nil, err
		}
		rep.Verifications = append(rep.Verifications, v)
		g.open(srv.base)
		rep.Downtime = time.Since(down)
		say("load resumes for %s", cfg.Duration-cfg.KillAfter)
		if !underLoad(ctx, srv, cfg.Duration-cfg.KillAfter) {
			return abort(stopLoad, &wg, srv)
		}
	} else if !underLoad(ctx, srv, cfg.Duration) {
		return abort(stopLoad, &wg, srv)
	}
	stopLoad()
	wg.Wait()
	rep.LoadTime = time.Since(start) - rep.Downtime

	say("stopping satmark serve (SIGTERM) and checking the database")
	if err := srv.stop(); err != nil {
		rep.problem("satmark serve did not stop cleanly after SIGTERM: %v", err)
	}
	rep.ServerCPU += srv.cpu
	rep.Writes = j.all()
	v, err := verify(ctx, dbPath, rep.Writes)
	if err != nil {
		return nil, fmt.Errorf("checking after the load: %w", err)
	}
	v.When = "after the load and a graceful stop (SIGTERM)"
	rep.Verifications = append(rep.Verifications, v)

	for _, a := range analysts {
		for op, s := range a.stats {
			rep.Stats[op].merge(s)
		}
		rep.Unexpected = append(rep.Unexpected, a.unexpected...)
		rep.Broken += a.broken
	}
	for _, s := range rep.Stats {
		slices.Sort(s.latencies)
	}
	for _, l := range logs {
		n, err := countErrorLines(l)
		if err != nil {
			return nil, err
		}
		rep.ErrorLines += n
	}
	if j.err != nil {
		rep.problem("writing the journal: %v", j.err)
	}
	rep.judge()
	return rep, nil
}

// judge lists what makes the run fail.
func (r *Report) judge() {
	all := r.Stats["all"]
	if n := count(all.status, 500, 599); n > 0 {
		r.problem("%d requests answered 5xx", n)
	}
	if n := r.otherClientErrors(all); n > 0 {
		r.problem("%d requests answered a 4xx other than 404 and 412", n)
	}
	if r.Broken > 0 {
		r.problem("%d answers were 2xx but not what the API promises (see the unexpected lines)", r.Broken)
	}
	if all.noAnswer > 0 {
		r.problem("%d requests got no answer while the server was up", all.noAnswer)
	}
	if r.ErrorLines > 0 {
		r.problem("satmark logged %d ERROR lines (see load-serve-*.log in the data folder)", r.ErrorLines)
	}
	for _, v := range r.Verifications {
		for i, p := range v.Problems {
			if i == 20 {
				r.problem("%s: … and %d more", v.When, len(v.Problems)-i)
				break
			}
			r.problem("%s: %s", v.When, p)
		}
	}
}

func (r *Report) otherClientErrors(s *opStats) int {
	return count(s.status, 400, 499) - s.status[http.StatusNotFound] - s.status[http.StatusPreconditionFailed]
}

// count adds up the statuses from lo to hi.
func count(status map[int]int, lo, hi int) int {
	n := 0
	for code, c := range status {
		if code >= lo && code <= hi {
			n += c
		}
	}
	return n
}

// percentile of sorted latencies, nearest rank, in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "satmark load test: %d analysts for %s on %d shared images, seed %d, %d CPUs, %s\n",
		c.Analysts, c.Duration, c.Images, c.Seed, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if r.KilledAt > 0 {
		fmt.Fprintf(w, "crash run: SIGKILL %.1f s into the load, restart on the same data, checks, load resumed after %.1f s\n",
			r.KilledAt.Seconds(), r.Downtime.Seconds())
	}
	fmt.Fprintln(w)
	row := "%-9s %9s %8s %8s %8s %8s %8s %6s %6s %9s %5s %9s\n"
	fmt.Fprintf(w, row, "operation", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms", "2xx", "404", "412", "4xx other", "5xx", "no answer")
	for _, op := range append(operations, "all") {
		s := r.Stats[op]
		ms := func(p float64) string { return fmt.Sprintf("%.1f", percentile(s.latencies, p)) }
		noAnswer := fmt.Sprint(s.noAnswer)
		if s.cut > 0 {
			noAnswer = fmt.Sprintf("%d+%d cut", s.noAnswer, s.cut)
		}
		fmt.Fprintf(w, row, op, fmt.Sprint(len(s.latencies)+s.noAnswer+s.cut), ms(0.50), ms(0.90), ms(0.99), ms(1),
			fmt.Sprint(count(s.status, 200, 299)), fmt.Sprint(s.status[http.StatusNotFound]),
			fmt.Sprint(s.status[http.StatusPreconditionFailed]), fmt.Sprint(r.otherClientErrors(s)),
			fmt.Sprint(count(s.status, 500, 599)), noAnswer)
	}
	all := r.Stats["all"]
	fmt.Fprintf(w, "\nthroughput: %.0f requests/s over %.1f s under load", float64(len(all.latencies))/r.LoadTime.Seconds(), r.LoadTime.Seconds())
	if all.cut > 0 {
		fmt.Fprintf(w, "; %d requests cut by the SIGKILL (in doubt, not failures)", all.cut)
	}
	fmt.Fprintln(w)
	// CPU per request shows a change in the server's cost even when the machine is shared
	// and the wall-clock numbers wander with the other load on it.
	if n := len(all.latencies); n > 0 {
		fmt.Fprintf(w, "satmark serve CPU: %.1f s user+system, %.2f ms per request answered\n",
			r.ServerCPU.Seconds(), r.ServerCPU.Seconds()*1000/float64(n))
	}
	for _, v := range r.Verifications {
		fmt.Fprintf(w, "\nchecks %s:\n", v.When)
		integrity := "ok"
		if len(v.Integrity) != 1 || v.Integrity[0] != "ok" {
			integrity = fmt.Sprint(v.Integrity)
		}
		fmt.Fprintf(w, "  PRAGMA integrity_check: %s; foreign_key_check: %d rows\n", integrity, v.ForeignKeys)
		fmt.Fprintf(w, "  acknowledged writes checked: %d (%d creates, %d edits, %d deletes, %d comments)\n",
			v.Acked[opCreate]+v.Acked[opEdit]+v.Acked[opDelete]+v.Acked[opComment],
			v.Acked[opCreate], v.Acked[opEdit], v.Acked[opDelete], v.Acked[opComment])
		fmt.Fprintf(w, "  writes in doubt: %d, resolved %d present in full, %d absent; refused writes (404/412) absent: %d\n",
			v.Present+v.Absent, v.Present, v.Absent, v.Refused)
		fmt.Fprintf(w, "  %d annotation rows, %d revisions of %d annotations: histories without gaps, rows equal to their last revision\n",
			v.Rows, v.Revisions, v.Histories)
		if v.APIImages > 0 {
			fmt.Fprintf(w, "  the restarted server lists the same %d annotations as the database on %d images\n", v.APIRows, v.APIImages)
		}
		if len(v.Problems) == 0 {
			fmt.Fprintln(w, "  all passed")
		} else {
			fmt.Fprintf(w, "  %d FAILED\n", len(v.Problems))
		}
	}
	fmt.Fprintf(w, "\nsatmark logs: %d ERROR lines\n", r.ErrorLines)
	for _, u := range r.Unexpected {
		fmt.Fprintln(w, "  unexpected:", u)
	}
	if r.Passed() {
		fmt.Fprintln(w, "PASS")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "FAIL:", p)
	}
}

// fetchWorld reads the first n images (by id) and the label ids.
func fetchWorld(ctx context.Context, client *http.Client, base, token string, n int) ([]image, []string, error) {
	get := func(path string, v any) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	var images []image
	if err := get("/api/v1/images", &images); err != nil {
		return nil, nil, err
	}
	if len(images) < n {
		return nil, nil, fmt.Errorf("the data folder holds %d images, fewer than -images %d (satmark seed adds 3)", len(images), n)
	}
	sort.Slice(images, func(i, j int) bool { return images[i].ID < images[j].ID })
	var labels []struct {
		ID string `json:"id"`
	}
	if err := get("/api/v1/labels", &labels); err != nil {
		return nil, nil, err
	}
	if len(labels) == 0 {
		return nil, nil, fmt.Errorf("no labels to annotate with")
	}
	ids := make([]string, len(labels))
	for i, l := range labels {
		ids[i] = l.ID
	}
	return images[:n], ids, nil
}

// underLoad waits d while the analysts work. It returns false when ctx ends or the
// server exits by itself meanwhile.
func underLoad(ctx context.Context, srv *server, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-srv.done:
		return false
	}
}

// abort stops the analysts after the run was interrupted or the server exited.
func abort(stopLoad context.CancelFunc, wg *sync.WaitGroup, srv *server) (*Report, error) {
	stopLoad()
	wg.Wait()
	select {
	case <-srv.done:
		return nil, fmt.Errorf("satmark serve exited during the load (%v); see its log in the data folder", srv.err)
	default:
		return nil, errors.New("interrupted")
	}
}
