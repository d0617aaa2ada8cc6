package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPrefix names the temporary directories of clusters, so a later run can
// find and stop clusters whose test binary was killed.
const dirPrefix = "carelens-pgtest-"

// BinEnv names an environment variable that may point at the directory
// holding initdb and pg_ctl, ahead of PATH and /usr/lib/postgresql/*/bin.
const BinEnv = "CARELENS_PGTEST_BIN"

// debianBins is where Debian's postgresql-<version> packages put the
// server programs (not on PATH).
var debianBins = "/usr/lib/postgresql/*/bin"

// errNoBinaries marks a machine without PostgreSQL: tests skip.
var errNoBinaries = errors.New("PostgreSQL binaries not found (install Debian's postgresql package; .ci/run does)")

// Cluster is a throwaway PostgreSQL server: its own data directory in a
// temporary directory, listening on 127.0.0.1 only, trust authentication
// for the superuser "postgres", fsync off. It is stopped and its directory
// removed by the cleanup Start registers, or by Main for Shared.
type Cluster struct {
	dir  string // temporary directory: data/, server.log, owner.pid, socket
	bin  string // directory holding initdb, pg_ctl, postgres
	port int
	cred *syscall.Credential // set when running as root: act as user postgres

	stopOnce sync.Once
}

// Start starts a new cluster for the test and registers its cleanup. It
// skips the test when the PostgreSQL binaries are absent and fails it when
// the server does not come up. Starting takes about a second.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := start()
	if errors.Is(err, errNoBinaries) {
		tb.Skip(err.Error())
	}
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(c.stop)
	return c
}

// Shared state: one cluster per test binary, started on first use and
// stopped by Main.
var shared struct {
	mainRunning bool
	once        sync.Once
	c           *Cluster
	err         error
}

// Main runs the tests of a package (call it from TestMain) and then stops
// the cluster Shared started, if any:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	shared.mainRunning = true
	code := m.Run()
	if shared.c != nil {
		shared.c.stop()
	}
	os.Exit(code)
}

// Shared returns the test binary's shared cluster, starting it on first
// use; tests keep apart by creating their own databases (CreateDB). It
// needs Main in the package's TestMain, which stops the cluster after the
// last test, and skips like Start when the binaries are absent.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	if !shared.mainRunning {
		tb.Fatal("pgtest: Shared needs func TestMain(m *testing.M) { pgtest.Main(m) } in the package")
	}
	shared.once.Do(func() { shared.c, shared.err = start() })
	if errors.Is(shared.err, errNoBinaries) {
		tb.Skip(shared.err.Error())
	}
	if shared.err != nil {
		tb.Fatalf("pgtest: %v", shared.err)
	}
	return shared.c
}

// DSN returns a connection URL for database db as the superuser.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, url.PathEscape(db))
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// CreateDB creates database name (dropping it at the end of the test) and
// returns its DSN.
func (c *Cluster) CreateDB(tb testing.TB, name string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			return // the cluster is already gone
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// start finds the binaries, sweeps clusters left by killed test binaries,
// and starts a new cluster.
func start() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the system user postgres to run the server (Debian's postgresql package creates it): %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	sweep(bin, c.cred)
	// Not t.TempDir: its parents are private to the test's user, and the
	// server may run as another one.
	c.dir, err = os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(c.dir)
			return nil, err
		}
	}
	if err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	// The free port can be taken between probing and binding: retry.
	for attempt := 0; ; attempt++ {
		c.port, err = freePort()
		if err == nil {
			err = c.startServer()
		}
		if err == nil {
			return c, nil
		}
		if attempt == 2 {
			os.RemoveAll(c.dir)
			return nil, err
		}
	}
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// startServer starts postgres with pg_ctl and waits until it accepts
// connections.
func (c *Cluster) startServer() error {
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(c.port),
		"-c unix_socket_directories=" + c.dir,
		"-c fsync=off",
		"-c synchronous_commit=off",
		"-c full_page_writes=off",
		"-c max_connections=50",
	}, " ")
	logFile := filepath.Join(c.dir, "server.log")
	if err := c.run("pg_ctl", "-D", c.data(), "-l", logFile, "-o", opts, "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(logFile)
		c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop") // in case it half started
		return fmt.Errorf("%w\nserver log:\n%s", err, tail(log, 20))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if ctx.Err() != nil {
			c.stop()
			return fmt.Errorf("server on port %d does not accept connections: %w", c.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the server at once (no checkpoint: the data is thrown away)
// and removes the directory.
func (c *Cluster) stop() {
	c.stopOnce.Do(func() {
		c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
		os.RemoveAll(c.dir)
	})
}

// run runs one of the PostgreSQL programs, as user postgres when root.
func (c *Cluster) run(prog string, args ...string) error {
	return runAs(c.bin, c.cred, c.dir, prog, args...)
}

func runAs(bin string, cred *syscall.Credential, dir, prog string, args ...string) error {
	cmd := exec.Command(filepath.Join(bin, prog), args...)
	cmd.Dir = dir // the test's working directory may be unreadable to user postgres
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", prog, args[len(args)-1], err, tail(out, 20))
	}
	return nil
}

// findBin returns the directory holding initdb, pg_ctl and postgres: $BinEnv,
// else the directory initdb on PATH resolves to, else the newest
// /usr/lib/postgresql/<version>/bin (Debian's layout, not on PATH).
func findBin() (string, error) {
	ok := func(dir string) bool {
		for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	var tried []string
	if dir := os.Getenv(BinEnv); dir != "" {
		if ok(dir) {
			return dir, nil
		}
		tried = append(tried, "$"+BinEnv+"="+dir)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	tried = append(tried, "initdb on PATH")
	dirs, _ := filepath.Glob(debianBins)
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	tried = append(tried, debianBins)
	return "", fmt.Errorf("%w: looked at %s", errNoBinaries, strings.Join(tried, ", "))
}

// version extracts the major version from /usr/lib/postgresql/<v>/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sweep stops and removes clusters whose test binary is gone (killed by a
// timeout or a signal before its cleanup ran).
func sweep(bin string, cred *syscall.Credential) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			runAs(bin, cred, dir, "pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop")
		}
		os.RemoveAll(dir)
	}
}

// processAlive tells whether pid runs; a zombie (killed, not yet reaped by
// its new parent) does not.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
