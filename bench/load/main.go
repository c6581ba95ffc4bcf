// Command load is satmark's bounded load and crash test. It seeds a fresh data folder,
// creates analyst accounts and API tokens with the satmark CLI, serves it on a loopback
// port, and lets N simulated analysts create, edit, delete, comment on and list
// annotations on the same shared images for a fixed time, each with its own token. It reports latency by
// operation and the statuses seen, then opens the SQLite file itself and checks that
// every acknowledged write is there, that no write is half-present (an annotation without
// its revision or the other way round), and PRAGMA integrity_check.
//
// With -kill-after, the server is killed with SIGKILL at that point of the run; requests
// cut by the kill are kept as "in doubt", the server is restarted on the same data, the
// checks run against the restarted server, and the load resumes for the rest of the run.
//
//	go run ./bench/load -satmark bin/satmark -analysts 50 -duration 60s
//	go run ./bench/load -satmark bin/satmark -analysts 50 -duration 60s -kill-after 30s
//
// With -store postgres it starts a throwaway PostgreSQL + PostGIS cluster from
// /usr/lib/postgresql/*/bin (pgtest's code) and runs satmark on a fresh database there;
// with -processes 2 as well, two satmark serve processes share that database and the data
// folder behind a round-robin reverse proxy on loopback (proxy.go), and -kill-after
// SIGKILLs one of them while the other carries the load on: the proxy's 502s for the
// requests in flight on the killed one are counted apart (in doubt, checked), any other
// 5xx fails the run. -compare runs SQLite with one process, PostgreSQL with one and with
// two, one after the other with the same flags, and prints requests/s and latencies side
// by side:
//
//	go run ./bench/load -compare -satmark bin/satmark -analysts 100 -duration 60s -kill-after 30s
//
// It exits 1 when a check fails, a request got a 5xx or an unexpected 4xx, or a request
// got no answer while the server was supposed to be up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/satmark/satmark/pgtest"
)

// Config is one load run.
type Config struct {
	Satmark   string        // the satmark binary
	Analysts  int           // simulated analysts, one account and token each
	Duration  time.Duration // time under load (the downtime after a kill is not counted)
	Images    int           // shared images the analysts work on
	KillAfter time.Duration // SIGKILL the server this far into the run; 0 for none
	Think     time.Duration // each analyst pauses up to this long between requests
	Data      string        // the data folder: created, must not hold anything yet
	Host      string        // loopback address the server listens on
	Seed      uint64        // seeds the analysts' choices
	Database  string        // a PostgreSQL DSN for satmark's --database; "" for the SQLite file in Data
	Processes int           // satmark serve processes on the one store and data folder (0 is 1); above 1, behind a proxy
}

// label names the store and the number of processes, as the comparison's rows do.
func (c Config) label() string {
	store := "SQLite"
	if c.Database != "" {
		store = "PostgreSQL"
	}
	return fmt.Sprintf("%s, %d process", store, c.Processes) + map[bool]string{true: "es"}[c.Processes > 1]
}

func (c Config) check() error {
	switch {
	case c.Satmark == "":
		return errors.New("-satmark: say which satmark binary to run")
	case c.Analysts < 1:
		return errors.New("-analysts: at least 1")
	case c.Duration <= 0:
		return errors.New("-duration: must be positive")
	case c.Images < 1:
		return errors.New("-images: at least 1")
	case c.KillAfter < 0 || (c.KillAfter > 0 && c.KillAfter >= c.Duration):
		return fmt.Errorf("-kill-after %s: must fall inside -duration %s", c.KillAfter, c.Duration)
	case c.Data == "":
		return errors.New("-data: say where the data folder goes")
	case c.Processes < 1 || c.Processes > 16:
		return errors.New("-processes: from 1 to 16")
	case c.Processes > 1 && c.Database == "":
		return errors.New("-processes above 1 needs -store postgres: SQLite is one process's")
	}
	return checkLoopback(c.Host)
}

func main() {
	cfg := Config{}
	flag.StringVar(&cfg.Satmark, "satmark", "bin/satmark", "the satmark binary to test")
	flag.IntVar(&cfg.Analysts, "analysts", 50, "simulated analysts working at once")
	flag.DurationVar(&cfg.Duration, "duration", 60*time.Second, "time under load")
	flag.IntVar(&cfg.Images, "images", 2, "shared images to annotate (satmark seed adds 3)")
	flag.DurationVar(&cfg.KillAfter, "kill-after", 0, "SIGKILL the server (with -processes 2, one of them) this far into the run, and check (0: no kill)")
	flag.DurationVar(&cfg.Think, "think", 0, "each analyst pauses a random time up to this between requests (0: none)")
	flag.StringVar(&cfg.Data, "data", "", "data folder to create (default: a temporary folder, removed after a passing run); with -compare, one folder per run inside it")
	flag.StringVar(&cfg.Host, "host", "127.0.0.1", "loopback address to serve on (anything else is refused)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the analysts' random choices")
	flag.IntVar(&cfg.Processes, "processes", 1, "satmark serve processes behind a loopback round-robin proxy (above 1 needs -store postgres)")
	storeName := flag.String("store", "sqlite", "sqlite, or postgres: a throwaway PostgreSQL + PostGIS cluster the test starts from /usr/lib/postgresql/*/bin")
	compare := flag.Bool("compare", false, "run SQLite with 1 process, PostgreSQL with 1 and with 2 (-store and -processes are ignored), and compare them")
	keep := flag.Bool("keep", false, "keep the temporary data folder after a passing run")
	cpuProfile := flag.String("cpuprofile", "", "write this program's own CPU profile (the analysts, not the server: SATMARK_PPROF profiles that) to this file")
	flag.Parse()
	// The analysts run on the same CPUs as the server, so what they cost shows in the
	// server's latency: collecting less often makes their share smaller (the server keeps
	// its own setting).
	debug.SetGCPercent(400)

	var runs []Config
	switch {
	case *compare:
		for _, r := range []struct {
			pg    bool
			procs int
		}{{false, 1}, {true, 1}, {true, 2}} {
			c := cfg
			c.Processes = r.procs
			if r.pg {
				c.Database = "postgres" // made real once the cluster is up
			}
			runs = append(runs, c)
		}
	case *storeName == "postgres":
		cfg.Database = "postgres"
		runs = []Config{cfg}
	case *storeName == "sqlite":
		runs = []Config{cfg}
	default:
		fatal(fmt.Errorf("-store %q: sqlite or postgres", *storeName))
	}

	temp := cfg.Data == ""
	root := cfg.Data
	if temp {
		dir, err := os.MkdirTemp("", "satmark-load-")
		if err != nil {
			fatal(err)
		}
		root = filepath.Join(dir, "data")
	}
	for i := range runs {
		runs[i].Data = root
		if len(runs) > 1 {
			runs[i].Data = filepath.Join(root, fmt.Sprintf("%d-%s-%d", i+1, map[bool]string{false: "sqlite", true: "pg"}[runs[i].Database != ""], runs[i].Processes))
		}
		if err := runs[i].check(); err != nil {
			fatal(err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cluster *pgtest.Cluster
	for i := range runs {
		if runs[i].Database == "" {
			continue
		}
		if cluster == nil {
			bindir, version, err := pgtest.Find()
			if err != nil {
				fatal(err)
			}
			fmt.Fprintf(os.Stderr, "load: starting PostgreSQL %s from %s\n", version, bindir)
			if cluster, err = pgtest.Start(bindir, version); err != nil {
				fatal(err)
			}
			defer cluster.Stop()
		}
		dsn, err := cluster.NewDatabase(fmt.Sprintf("satmark_load_%d", i+1))
		if err != nil {
			cluster.Stop()
			fatal(err)
		}
		runs[i].Database = dsn
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
	}
	failed := false
	var reps []*Report
	for _, c := range runs {
		if len(runs) > 1 {
			fmt.Fprintf(os.Stderr, "\n== %s\n", c.label())
		}
		rep, err := Run(ctx, c, os.Stderr)
		if rep != nil {
			rep.Print(os.Stdout)
			reps = append(reps, rep)
		}
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "load: %s: %v (data folder kept: %s)\n", c.label(), err, c.Data)
			failed = true
		case !rep.Passed():
			fmt.Fprintf(os.Stderr, "load: %s: data folder kept for inspection: %s\n", c.label(), c.Data)
			failed = true
		}
		if err != nil && ctx.Err() != nil {
			break
		}
		fmt.Println()
	}
	if len(runs) > 1 {
		printComparison(os.Stdout, reps)
	}
	pprof.StopCPUProfile() // a no-op without -cpuprofile
	switch {
	case failed:
		if cluster != nil {
			cluster.Stop()
		}
		os.Exit(1)
	case temp && !*keep:
		os.RemoveAll(filepath.Dir(root))
	default:
		fmt.Fprintf(os.Stderr, "load: data folder: %s\n", root)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(2)
}
