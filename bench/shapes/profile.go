package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// chromiumCPU is the CPU time (user + system) used so far by the browser chromedp
// started and every process under it (renderers, GPU, network), read from /proc.
func chromiumCPU(ctx context.Context) time.Duration {
	c := chromedp.FromContext(ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0
	}
	root := c.Browser.Process().Pid
	type proc struct {
		ppid  int
		ticks int64
	}
	procs := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid … utime stime: fields after the comm's closing parenthesis.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		procs[pid] = proc{ppid, ut + st}
	}
	under := func(pid int) bool {
		for i := 0; i < 64 && pid > 1; i++ {
			if pid == root {
				return true
			}
			pid = procs[pid].ppid
		}
		return false
	}
	var ticks int64
	for pid, p := range procs {
		if under(pid) {
			ticks += p.ticks
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// startProfile starts V8's sampling profiler of the page (every 200 µs).
func startProfile(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{})
	return err
}

// stopProfile stops it, writes the profile to file (open it in DevTools' Performance
// panel) and prints where the time went: by category, and the functions that took most,
// by self time and by total time.
func stopProfile(ctx context.Context, file string) error {
	res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
	if err != nil {
		return err
	}
	p := res.Profile
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, summarize(p))
	return nil
}

func summarize(p *profiler.Profile) string {
	parent := map[int64]int64{}
	byID := map[int64]*profiler.ProfileNode{}
	for _, n := range p.Nodes {
		byID[n.ID] = n
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	name := func(n *profiler.ProfileNode) string {
		f := n.CallFrame
		fn := f.FunctionName
		if fn == "" {
			fn = "(anonymous)"
		}
		if f.URL == "" {
			return fn
		}
		return fmt.Sprintf("%s %s:%d", fn, path.Base(f.URL), f.LineNumber+1)
	}
	self := map[string]float64{}
	total := map[string]float64{}
	var all float64
	for i, id := range p.Samples {
		d := 0.0
		if i+1 < len(p.TimeDeltas) {
			d = float64(p.TimeDeltas[i+1]) / 1000
		}
		all += d
		n := byID[id]
		self[name(n)] += d
		seen := map[string]bool{}
		for cur, ok := id, true; ok; cur, ok = parent[cur] {
			k := name(byID[cur])
			if !seen[k] {
				seen[k] = true
				total[k] += d
			}
		}
	}
	top := func(m map[string]float64, k int) string {
		keys := make([]string, 0, len(m))
		for key := range m {
			keys = append(keys, key)
		}
		slices.SortFunc(keys, func(a, b string) int { return int(m[b]*1000 - m[a]*1000) })
		var sb strings.Builder
		for _, key := range keys[:min(k, len(keys))] {
			fmt.Fprintf(&sb, "  %8.0f ms  %s\n", m[key], key)
		}
		return sb.String()
	}
	return fmt.Sprintf("profile: %.0f ms sampled\nself time:\n%stotal time:\n%s", all, top(self, 30), top(total, 45))
}
