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
	"syscall"
	"time"
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
	}
	return checkLoopback(c.Host)
}

func main() {
	cfg := Config{}
	flag.StringVar(&cfg.Satmark, "satmark", "bin/satmark", "the satmark binary to test")
	flag.IntVar(&cfg.Analysts, "analysts", 50, "simulated analysts working at once")
	flag.DurationVar(&cfg.Duration, "duration", 60*time.Second, "time under load")
	flag.IntVar(&cfg.Images, "images", 2, "shared images to annotate (satmark seed adds 3)")
	flag.DurationVar(&cfg.KillAfter, "kill-after", 0, "SIGKILL the server this far into the run, restart it and check (0: no kill)")
	flag.DurationVar(&cfg.Think, "think", 0, "each analyst pauses a random time up to this between requests (0: none)")
	flag.StringVar(&cfg.Data, "data", "", "data folder to create (default: a temporary folder, removed after a passing run)")
	flag.StringVar(&cfg.Host, "host", "127.0.0.1", "loopback address to serve on (anything else is refused)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the analysts' random choices")
	keep := flag.Bool("keep", false, "keep the temporary data folder after a passing run")
	flag.Parse()

	temp := cfg.Data == ""
	if temp {
		dir, err := os.MkdirTemp("", "satmark-load-")
		if err != nil {
			fatal(err)
		}
		cfg.Data = filepath.Join(dir, "data")
	}
	if err := cfg.check(); err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg, os.Stderr)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "load: %v (data folder kept: %s)\n", err, cfg.Data)
		os.Exit(1)
	case !rep.Passed():
		fmt.Fprintf(os.Stderr, "load: data folder kept for inspection: %s\n", cfg.Data)
		os.Exit(1)
	case temp && !*keep:
		os.RemoveAll(filepath.Dir(cfg.Data))
	default:
		fmt.Fprintf(os.Stderr, "load: data folder: %s\n", cfg.Data)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(2)
}
