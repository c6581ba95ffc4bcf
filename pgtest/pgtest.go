// Package pgtest starts throwaway PostgreSQL + PostGIS servers for tests, from Debian's
// binaries under /usr/lib/postgresql/*/bin, without root and without the system service:
// the cluster lives in a temporary folder, listens on a free loopback port (and a unix
// socket in that folder), and is stopped when the tests end.
//
// A package whose tests share one cluster runs them through Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and each test takes a fresh database (PostGIS installed) with DSN or DB. Without Main,
// DSN starts a cluster for the one test and stops it at the test's end. A program outside
// tests (bench/load) starts one with Find and Start and makes databases with NewDatabase.
//
// When no PostgreSQL with PostGIS is installed the tests are skipped, unless
// SATMARK_REQUIRE_ORACLES=1, when they fail.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// template is the database every test database is copied from: it has PostGIS already,
// so a test's database costs a file copy instead of running PostGIS's install script.
const template = "satmark_template"

// Cluster is one running PostgreSQL server in a temporary folder.
type Cluster struct {
	// Port is the loopback TCP port the server listens on.
	Port int
	// Version is the PostgreSQL major version, from the binaries' folder name.
	Version string

	dir    string // the cluster's folder: data/, the socket and the server's log
	bindir string
	proc   *exec.Cmd
	exited chan struct{} // closed when the server process has ended
	dbs    atomic.Int64

	mu        sync.Mutex
	templates map[string]error // made by Template: nil, or why it could not be
}

var shared struct {
	sync.Mutex
	inMain  bool
	cluster *Cluster
	err     error
}

// Main runs the package's tests with one cluster shared by all of them, started on the
// first DSN call, and stops it before exiting.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has more to do after the tests: it returns their exit
// code instead of exiting, the shared cluster stopped.
func Run(m *testing.M) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		shared.cluster = nil
	}
	shared.Unlock()
	return code
}

// DSN returns a postgres:// connection string for a new, empty database with PostGIS
// installed, dropped when the test ends. The test is skipped when PostgreSQL or PostGIS
// is not installed (failed instead with SATMARK_REQUIRE_ORACLES=1).
func DSN(tb testing.TB) string {
	tb.Helper()
	return copyOf(tb, cluster(tb), template)
}

// Template makes the database name once per cluster, a copy of the PostGIS one that
// setup is given the DSN of (setup must close its connections before it returns), for
// DSNFrom to copy: a schema made once instead of for every test. A failed setup fails
// every test that asks for name.
func Template(tb testing.TB, name string, setup func(dsn string) error) {
	tb.Helper()
	c := cluster(tb)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.templates == nil {
		c.templates = map[string]error{}
	}
	err, made := c.templates[name]
	if !made {
		err = c.makeCopy(name, template)
		if err == nil {
			err = setup(c.dsn(name))
		}
		c.templates[name] = err
	}
	if err != nil {
		tb.Fatalf("pgtest: template %s: %v", name, err)
	}
}

// DSNFrom is DSN over a copy of the database a Template call made.
func DSNFrom(tb testing.TB, name string) string {
	tb.Helper()
	c := cluster(tb)
	c.mu.Lock()
	err, made := c.templates[name]
	c.mu.Unlock()
	if !made || err != nil {
		tb.Fatalf("pgtest: no template %s (%v): call Template first", name, err)
	}
	return copyOf(tb, c, name)
}

func (c *Cluster) makeCopy(name, from string) error {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+from); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// copyStrategy makes PostgreSQL 15 and later copy a template's files, as before 15,
// instead of writing each of its pages to the write-ahead log (15's default, slower for
// a template as large as PostGIS's).
func (c *Cluster) copyStrategy() string {
	if v, _ := strconv.Atoi(c.Version); v >= 15 {
		return ` STRATEGY FILE_COPY`
	}
	return ""
}

// copyOf makes a new database from the template from, dropped when the test ends.
func copyOf(tb testing.TB, c *Cluster, from string) string {
	tb.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.dbs.Add(1))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+from+c.copyStrategy()); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := pgx.Connect(ctx, c.dsn("postgres"))
		if err != nil {
			tb.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		// FORCE ends connections a test left open (a pool not yet closed).
		if _, err := admin.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.dsn(name)
}

// DB opens a new database as DSN does, through pgx's database/sql driver, closed when
// the test ends.
func DB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", DSN(tb))
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	// Registered after DSN's cleanup, so it runs first: closed before it is dropped.
	tb.Cleanup(func() { db.Close() })
	return db
}

// cluster returns the shared cluster under Main, or a cluster for this test alone.
func cluster(tb testing.TB) *Cluster {
	tb.Helper()
	bindir, version, err := Find()
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			tb.Fatalf("pgtest: %v, and SATMARK_REQUIRE_ORACLES=1", err)
		}
		tb.Skipf("pgtest: %v", err)
	}
	shared.Lock()
	inMain := shared.inMain
	shared.Unlock()
	if !inMain {
		c, err := Start(bindir, version)
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		tb.Cleanup(func() {
			if err := c.Stop(); err != nil {
				tb.Errorf("pgtest: %v", err)
			}
		})
		return c
	}
	shared.Lock()
	defer shared.Unlock()
	if shared.cluster == nil && shared.err == nil {
		shared.cluster, shared.err = Start(bindir, version)
	}
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return shared.cluster
}

// Find returns the newest /usr/lib/postgresql/<version>/bin that has initdb and postgres
// and whose share folder has PostGIS, or an error saying what to install.
func Find() (bindir, version string, err error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	var without []string
	for _, d := range dirs {
		v := filepath.Base(filepath.Dir(d))
		if !isFile(filepath.Join(d, "initdb")) || !isFile(filepath.Join(d, "postgres")) {
			continue
		}
		if !isFile(filepath.Join("/usr/share/postgresql", v, "extension", "postgis.control")) {
			without = append(without, v)
			continue
		}
		return d, v, nil
	}
	if len(without) > 0 {
		return "", "", fmt.Errorf("PostgreSQL %s has no PostGIS (apt-get install postgresql-%s-postgis-3)", strings.Join(without, ", "), without[0])
	}
	return "", "", errors.New("no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql postgresql-<version>-postgis-3)")
}

func majorOf(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Start creates a cluster in a new temporary folder with the binaries in bindir, starts
// it on a free loopback port and makes the PostGIS template database. Stop it with Stop.
func Start(bindir, version string) (*Cluster, error) {
	// Not under t.TempDir: the socket path must stay short (107 bytes), and when the
	// tests run as root the server runs as another user, who must be able to enter it.
	dir, err := os.MkdirTemp("", "satmark-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Version: version, dir: dir, bindir: bindir}
	cred, err := serverUser(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bindir, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// A port found free can be taken before the server binds it; try a few.
	for try := 0; ; try++ {
		err = c.start(cred)
		if err == nil || try == 2 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.makeTemplate(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// serverUser returns the credentials to run PostgreSQL with: none (the caller's) unless
// the caller is root, which PostgreSQL refuses to run as; then Debian's postgres user (or
// nobody), who is given dir.
func serverUser(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root, and no postgres or nobody user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs the server on a free port and waits until it accepts connections.
func (c *Cluster) start(cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(c.dir, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// The server is run directly rather than through pg_ctl so that it is this process's
	// child: the kernel stops it (Pdeathsig) if the test binary dies without Stop, as on a
	// test timeout. Durability settings are off: a test cluster never outlives its tests.
	cmd := exec.Command(filepath.Join(c.bindir, "postgres"), "-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that started the child ends, not the process:
		// keep this goroutine on its thread until the server has exited.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
			close(exited)
		}
	}()
	if err := <-started; err != nil {
		return err
	}
	c.Port, c.proc, c.exited = port, cmd, exited
	if err := c.waitReady(); err != nil {
		cmd.Process.Kill()
		<-exited
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres did not start: %v\n%s", err, log)
	}
	return nil
}

// waitReady waits until the server answers, or has exited, or 60 s have passed.
func (c *Cluster) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.dsn("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return errors.New("the server exited")
		case <-ctx.Done():
			return fmt.Errorf("not answering after 60 s: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) makeTemplate() error {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+template); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	conn, err := pgx.Connect(ctx, c.dsn(template))
	if err != nil {
		return err
	}
	// Closed at once: a database is copied only while nobody is connected to it.
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION postgis`); err != nil {
		return fmt.Errorf("create extension postgis: %w", err)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// NewDatabase makes the database name, with PostGIS installed, for a program outside
// tests (a benchmark) that started the cluster with Start, and returns its DSN.
func (c *Cluster) NewDatabase(name string) (string, error) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template+c.copyStrategy()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.dsn(name), nil
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and removes its
// folder.
func (c *Cluster) Stop() error {
	var err error
	if c.proc != nil {
		c.proc.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			c.proc.Process.Kill()
			<-c.exited
			err = errors.New("postgres did not stop within 30 s of SIGINT; killed")
		}
	}
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}
