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
	"syscall"
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
	LoadCPU       time.Duration       // CPU time (user and system) of this program under load: it shares the machine's CPUs with the server
	Verifications []*verification
	ErrorLines    int      // level=ERROR lines in the server logs
	Broken        int      // 2xx answers whose body was not what the API promises
	Unexpected    []string // the first unexpected answers, for the report
	ProxyErrors   int      // 502s the proxy answered (in front of several processes)
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
	if cfg.Processes == 0 {
		cfg.Processes = 1
	}
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
	store := database{path: filepath.Join(cfg.Data, "satmark.db")}
	var storeFlags []string
	if cfg.Database != "" {
		store = database{dsn: cfg.Database}
		storeFlags = []string{"--database", cfg.Database}
	}

	say("seeding %s (%s)", cfg.Data, cfg.label())
	if _, err := satmark(ctx, bin, "", append([]string{"seed", "--data", cfg.Data}, storeFlags...)...); err != nil {
		return nil, err
	}
	t0 := time.Now()
	accounts, err := createAccounts(ctx, bin, cfg.Data, storeFlags, cfg.Analysts)
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

	var logs []string
	procs := make([]*server, cfg.Processes)
	for i := range procs {
		logs = append(logs, filepath.Join(cfg.Data, fmt.Sprintf("load-serve-%d.log", i+1)))
		if procs[i], err = startServer(ctx, bin, cfg.Host, cfg.Data, storeFlags, logs[i]); err != nil {
			return nil, err
		}
		defer func() { procs[i].kill() }() // a no-op once it has stopped
		say("satmark serve process %d serves %s", i+1, procs[i].base)
	}
	srv := procs[0]
	base := srv.base
	var px *proxy
	if cfg.Processes > 1 {
		bases := make([]string, len(procs))
		for i, p := range procs {
			bases[i] = p.base
		}
		if px, err = startProxy(cfg.Host, bases); err != nil {
			return nil, err
		}
		defer px.close()
		base = px.base
		say("the round-robin proxy serves %s", base)
	}

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.Analysts + 2,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	images, labels, err := fetchWorld(ctx, client, base, accounts[0].token, cfg.Images)
	if err != nil {
		return nil, err
	}

	rep := &Report{Config: cfg, Stats: newStats()}
	g := newGate(base, cfg.Analysts)
	analysts := make([]*analyst, cfg.Analysts)
	for i, acc := range accounts {
		analysts[i] = &analyst{name: acc.name, token: acc.token, client: client, images: images, labels: labels,
			think: cfg.Think, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))), gate: g, journal: j, stats: newStats()}
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	start := time.Now()
	cpu0 := selfCPU()
	for _, a := range analysts {
		wg.Go(func() { a.run(loadCtx) })
	}
	say("%d analysts at work for %s", cfg.Analysts, cfg.Duration)

	live := procs
	var downCPU time.Duration
	switch {
	case cfg.KillAfter > 0 && cfg.Processes > 1:
		// One process dies under the load; the proxy sends everything to the others, and
		// the analysts never stop.
		if !underLoad(ctx, live, cfg.KillAfter) {
			return abort(stopLoad, &wg, live)
		}
		px.killed(0)
		procs[0].kill()
		rep.ServerCPU += procs[0].cpu
		rep.KilledAt = time.Since(start)
		live = procs[1:]
		say("killed satmark serve process 1 with SIGKILL %.1f s into the run; the proxy carries on with the other", rep.KilledAt.Seconds())
		if !underLoad(ctx, live, cfg.Duration-cfg.KillAfter) {
			return abort(stopLoad, &wg, live)
		}
	case cfg.KillAfter > 0:
		if !underLoad(ctx, live, cfg.KillAfter) {
			return abort(stopLoad, &wg, live)
		}
		g.down()
		downFrom := selfCPU()
		srv.kill()
		rep.ServerCPU += srv.cpu
		rep.KilledAt = time.Since(start)
		down := time.Now()
		transport.CloseIdleConnections()
		g.waitHeld()
		say("killed satmark serve with SIGKILL %.1f s into the run; restarting it on the same data", rep.KilledAt.Seconds())
		logs = append(logs, filepath.Join(cfg.Data, "load-serve-2.log"))
		restarted, err := startServer(ctx, bin, cfg.Host, cfg.Data, storeFlags, logs[len(logs)-1])
		if err != nil {
			return nil, fmt.Errorf("restart after SIGKILL: %w", err)
		}
		srv = restarted
		defer srv.kill()
		live = []*server{srv}
		say("satmark serves %s again; checking the database and the API", srv.base)
		v, err := verify(ctx, store, j.all())
		if err != nil {
			return nil, fmt.Errorf("checking after the restart: %w", err)
		}
		v.When = "after the SIGKILL and restart (server up, load held)"
		if err := compareAPI(ctx, v, client, srv.base, accounts[0].token, store, images); err != nil {
			return nil, err
		}
		rep.Verifications = append(rep.Verifications, v)
		g.open(srv.base)
		rep.Downtime = time.Since(down)
		downCPU = selfCPU() - downFrom // the checks after the restart are not load
		say("load resumes for %s", cfg.Duration-cfg.KillAfter)
		if !underLoad(ctx, live, cfg.Duration-cfg.KillAfter) {
			return abort(stopLoad, &wg, live)
		}
	default:
		if !underLoad(ctx, live, cfg.Duration) {
			return abort(stopLoad, &wg, live)
		}
	}
	stopLoad()
	wg.Wait()
	rep.LoadCPU = selfCPU() - cpu0 - downCPU
	rep.LoadTime = time.Since(start) - rep.Downtime
	rep.Writes = j.all()

	// Behind the proxy, the processes still up must list what the database holds,
	// including what the killed one wrote: asked before they stop.
	var api *verification
	if cfg.Processes > 1 {
		api = &verification{}
		if err := compareAPI(ctx, api, client, base, accounts[0].token, store, images); err != nil {
			return nil, err
		}
	}
	say("stopping satmark serve (SIGTERM) and checking the database")
	for _, p := range live {
		if err := p.stop(); err != nil {
			rep.problem("satmark serve did not stop cleanly after SIGTERM: %v", err)
		}
		rep.ServerCPU += p.cpu
	}
	v, err := verify(ctx, store, rep.Writes)
	if err != nil {
		return nil, fmt.Errorf("checking after the load: %w", err)
	}
	v.When = "after the load and a graceful stop (SIGTERM)"
	if api != nil {
		v.APIImages, v.APIRows = api.APIImages, api.APIRows
		v.Problems = append(v.Problems, api.Problems...)
	}
	rep.Verifications = append(rep.Verifications, v)
	if px != nil {
		rep.ProxyErrors = int(px.errors.Load())
	}

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
	fmt.Fprintf(w, "satmark load test (%s): %d analysts for %s on %d shared images, seed %d, %d CPUs, %s\n",
		c.label(), c.Analysts, c.Duration, c.Images, c.Seed, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	switch {
	case r.KilledAt > 0 && c.Processes > 1:
		fmt.Fprintf(w, "crash run: process 1 of %d SIGKILLed %.1f s into the load; the proxy sent the rest to the others, the load never paused\n",
			c.Processes, r.KilledAt.Seconds())
	case r.KilledAt > 0:
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
	switch {
	case all.cut > 0 && c.Processes > 1:
		fmt.Fprintf(w, "; %d requests in flight on the killed process got the proxy's 502 (in doubt and checked, not counted as 5xx)", all.cut)
	case all.cut > 0:
		fmt.Fprintf(w, "; %d requests cut by the SIGKILL (in doubt, not failures)", all.cut)
	}
	fmt.Fprintln(w)
	if c.Processes > 1 {
		fmt.Fprintf(w, "proxy: %d answers 502 in all, %d of them for requests in flight on the killed process\n", r.ProxyErrors, all.cut)
	}
	// CPU per request shows a change in the server's cost even when the machine is shared
	// and the wall-clock numbers wander with the other load on it.
	if n := len(all.latencies); n > 0 {
		fmt.Fprintf(w, "satmark serve CPU: %.1f s user+system, %.2f ms per request answered\n",
			r.ServerCPU.Seconds(), r.ServerCPU.Seconds()*1000/float64(n))
		fmt.Fprintf(w, "load generator CPU (on the same CPUs): %.1f s user+system, %.2f ms per request answered\n",
			r.LoadCPU.Seconds(), r.LoadCPU.Seconds()*1000/float64(n))
	}
	for _, v := range r.Verifications {
		fmt.Fprintf(w, "\nchecks %s:\n", v.When)
		integrity := "ok"
		if len(v.Integrity) != 1 || v.Integrity[0] != "ok" {
			integrity = fmt.Sprint(v.Integrity)
		}
		if c.Database == "" {
			fmt.Fprintf(w, "  PRAGMA integrity_check: %s; foreign_key_check: %d rows\n", integrity, v.ForeignKeys)
		} else {
			fmt.Fprintln(w, "  PostgreSQL: foreign keys and constraints checked by the server at every write (no integrity_check)")
		}
		fmt.Fprintf(w, "  acknowledged writes checked: %d (%d creates, %d edits, %d deletes, %d comments)\n",
			v.Acked[opCreate]+v.Acked[opEdit]+v.Acked[opDelete]+v.Acked[opComment],
			v.Acked[opCreate], v.Acked[opEdit], v.Acked[opDelete], v.Acked[opComment])
		fmt.Fprintf(w, "  writes in doubt: %d, resolved %d present in full, %d absent; refused writes (404/412) absent: %d\n",
			v.Present+v.Absent, v.Present, v.Absent, v.Refused)
		fmt.Fprintf(w, "  %d annotation rows, %d revisions of %d annotations: histories without gaps, rows equal to their last revision\n",
			v.Rows, v.Revisions, v.Histories)
		switch {
		case v.APIImages > 0 && c.Processes > 1:
			fmt.Fprintf(w, "  the processes still up, asked through the proxy, list the same %d annotations as the database on %d images\n", v.APIRows, v.APIImages)
		case v.APIImages > 0:
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

// underLoad waits d while the analysts work. It returns false when ctx ends or one of
// the servers exits by itself meanwhile.
func underLoad(ctx context.Context, servers []*server, d time.Duration) bool {
	exited := make(chan struct{}, len(servers))
	stop := make(chan struct{})
	defer close(stop)
	for _, s := range servers {
		go func() {
			select {
			case <-s.done:
				exited <- struct{}{}
			case <-stop:
			}
		}()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-exited:
		return false
	}
}

// abort stops the analysts after the run was interrupted or a server exited.
func abort(stopLoad context.CancelFunc, wg *sync.WaitGroup, servers []*server) (*Report, error) {
	stopLoad()
	wg.Wait()
	for _, s := range servers {
		select {
		case <-s.done:
			return nil, fmt.Errorf("satmark serve exited during the load (%v); see its log in the data folder", s.err)
		default:
		}
	}
	return nil, errors.New("interrupted")
}

// printComparison is the runs side by side: throughput and latency of every request
// answered, and satmark's CPU time per request.
func printComparison(w io.Writer, reps []*Report) {
	if len(reps) == 0 {
		return
	}
	c := reps[0].Config
	fmt.Fprintf(w, "comparison: %d analysts for %s each", c.Analysts, c.Duration)
	if c.KillAfter > 0 {
		fmt.Fprintf(w, ", a SIGKILL %s in", c.KillAfter)
	}
	fmt.Fprintf(w, ", %d CPUs, %s\n", runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	row := "%-26s %10s %8s %8s %10s %11s %6s %6s\n"
	fmt.Fprintf(w, row, "store", "requests/s", "p50 ms", "p99 ms", "CPU ms/req", "load ms/req", "cut", "result")
	for _, r := range reps {
		all := r.Stats["all"]
		n := len(all.latencies)
		rps, cpu, load := "-", "-", "-"
		if r.LoadTime > 0 {
			rps = fmt.Sprintf("%.0f", float64(n)/r.LoadTime.Seconds())
		}
		if n > 0 {
			cpu = fmt.Sprintf("%.2f", r.ServerCPU.Seconds()*1000/float64(n))
			load = fmt.Sprintf("%.2f", r.LoadCPU.Seconds()*1000/float64(n))
		}
		result := "PASS"
		if !r.Passed() {
			result = "FAIL"
		}
		fmt.Fprintf(w, row, r.Config.label(), rps, fmt.Sprintf("%.1f", percentile(all.latencies, 0.50)),
			fmt.Sprintf("%.1f", percentile(all.latencies, 0.99)), cpu, load, fmt.Sprint(all.cut), result)
	}
}

// selfCPU is the CPU time (user and system) this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
