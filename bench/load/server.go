package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// checkLoopback refuses any address but a loopback one: the load test never leaves
// the machine.
func checkLoopback(host string) error {
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-host %q: only a loopback address (127.0.0.1, ::1) is allowed", host)
	}
	return nil
}

// satmark runs one satmark CLI command and returns its standard output.
func satmark(ctx context.Context, bin, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("satmark %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// account is one simulated analyst's sign-in.
type account struct {
	name, token string
}

// createAccounts adds n analysts and an API token for each through the CLI, a few at a
// time (each password is hashed with bcrypt at satmark's cost, about 0.25 s of CPU).
// store is the CLI's flags that say where the database is (none for SQLite).
func createAccounts(ctx context.Context, bin, data string, store []string, n int) ([]account, error) {
	accounts := make([]account, n)
	errs := make([]error, n)
	sem := make(chan struct{}, max(2, runtime.NumCPU()))
	var wg sync.WaitGroup
	for i := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("a%02d", i+1)
			if _, err := satmark(ctx, bin, "load-test-password-"+name+"\n", append([]string{
				"user", "add", name, "--role", "analyst", "--password-stdin", "--data", data}, store...)...); err != nil {
				errs[i] = err
				return
			}
			out, err := satmark(ctx, bin, "", append([]string{"token", "create", name, "--label", "load test", "--data", data}, store...)...)
			token := strings.TrimSpace(out)
			if err == nil && !strings.HasPrefix(token, "smk_") {
				err = fmt.Errorf("satmark token create %s printed %q, not a token", name, token)
			}
			accounts[i], errs[i] = account{name: name, token: token}, err
		}()
	}
	wg.Wait()
	return accounts, errors.Join(errs...)
}

// server is a running `satmark serve`.
type server struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
	cpu  time.Duration // the CPU time (user and system) it used, once done is closed
}

var servingLine = regexp.MustCompile(`^satmark is serving (\S+) \(data in `)

// startServer starts satmark serve on a free loopback port (port 0: the server picks it
// and prints its URL first) and waits until it answers. Its output goes to logPath;
// store is the flags that say where the database is (none for SQLite).
func startServer(ctx context.Context, bin, host, data string, store []string, logPath string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	first := &firstLine{w: logf, line: make(chan string, 1)}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", net.JoinHostPort(host, "0"), "--data", data}, store...)...)
	cmd.Stdout, cmd.Stderr = first, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		if ps := cmd.ProcessState; ps != nil {
			s.cpu = ps.UserTime() + ps.SystemTime()
		}
		logf.Close()
		close(s.done)
	}()
	fail := func(err error) (*server, error) {
		s.kill()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	select {
	case line := <-first.line:
		m := servingLine.FindStringSubmatch(line)
		if m == nil {
			return fail(fmt.Errorf("satmark serve printed %q first, not where it serves", strings.TrimSpace(line)))
		}
		u, err := url.Parse(m[1])
		if err != nil || u.Scheme != "http" || checkLoopback(u.Hostname()) != nil {
			return fail(fmt.Errorf("satmark serve says it serves %s, which is not plain HTTP on loopback", m[1]))
		}
		s.base = "http://" + u.Host
	case <-s.done:
		return nil, fmt.Errorf("satmark serve exited at start (%v); see %s", s.err, logPath)
	case <-time.After(60 * time.Second):
		return fail(errors.New("satmark serve did not say where it serves within 60 s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	resp, err := http.Get(s.base + "/api/v1/health")
	if err != nil {
		return fail(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("GET /api/v1/health: %s", resp.Status))
	}
	return s, nil
}

// stop asks the server to shut down (SIGTERM) and waits; it is killed after 30 s.
// It returns the server's exit error, nil for a clean exit.
func (s *server) stop() error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.err
	case <-time.After(30 * time.Second):
		s.kill()
		return errors.New("satmark serve did not stop within 30 s of SIGTERM")
	}
}

// kill ends the server with SIGKILL and waits until it is gone.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// firstLine passes everything to w and sends the first line on line.
type firstLine struct {
	w    io.Writer
	line chan string
	buf  []byte
	sent bool
}

func (f *firstLine) Write(p []byte) (int, error) {
	if !f.sent {
		f.buf = append(f.buf, p...)
		if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
			f.line <- string(f.buf[:i+1])
			f.sent, f.buf = true, nil
		}
	}
	return f.w.Write(p)
}

// countErrorLines counts the lines slog wrote at level ERROR in a server log (satmark
// logs each 5xx once, with its cause).
func countErrorLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte("level=ERROR")) {
			n++
		}
	}
	return n, sc.Err()
}
