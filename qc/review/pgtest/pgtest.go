// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// into a new directory, pg_ctl start on a free loopback port with its
// Unix socket in that directory, and a stop and removal when the test
// ends. It uses the server binaries of Debian's postgresql package
// (/usr/lib/postgresql/VERSION/bin) or those on PATH.
//
// Tests skip, saying why, when the binaries are absent, except under CI
// (the CI environment variable is set), where that fails them. As root,
// which initdb refuses, the server runs as the postgres user through
// runuser.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	// Registers the "pgx" driver of database/sql.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// superuser is the role initdb creates, which the tests connect as.
const superuser = "qcgate"

// Server is a running throwaway PostgreSQL server.
type Server struct {
	// Port is the loopback TCP port it listens on.
	Port int
	dir  string
	bin  string
	as   string
	n    atomic.Int64
}

// Start starts a server that stops, and whose files are removed, when t
// ends. It skips t when no PostgreSQL binaries are found, unless CI is
// set.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findBin()
	if bin == "" {
		missing(t, "no PostgreSQL server binaries (initdb, pg_ctl); "+
			"install Debian's postgresql package")
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			missing(t, "running as root and no postgres user to run PostgreSQL as")
		}
		s.as = "postgres"
	}

	dir, err := os.MkdirTemp("", "qcgate-pg-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.dir = dir
	if s.as != "" {
		// initdb runs as postgres, which must own the directory.
		if out, err := exec.Command("chown", s.as, dir).CombinedOutput(); err != nil {
			t.Fatalf("pgtest: chown %s: %v: %s", dir, err, out)
		}
	}

	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", superuser, "--auth=trust",
		"-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	s.Port = freePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "+
		"-c synchronous_commit=off -c full_page_writes=off", s.Port, dir)
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l",
		filepath.Join(dir, "log"), "-w", "-t", "30", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := s.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			t.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
		}
	})
	return s
}

// DSN returns the connection URL of a database of the server.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.Port,
		database)
}

// NewDatabase creates an empty database and returns its connection URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test%d", s.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	return s.DSN(name)
}

// run runs one of the server binaries, as the postgres user when the
// tests run as root.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.as, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// findBin returns the directory of initdb and pg_ctl: the newest of
// Debian's versioned directories, else the one on PATH, else "".
func findBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

// versionOf reads the major version of a Debian binary directory.
func versionOf(dir string) int {
	v, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(dir)), ".")[0])
	return v
}

// isExec reports whether path is an executable file.
func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// missing skips t, or fails it under CI.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("pgtest: %s (CI is set, so this fails instead of skipping)", why)
	}
	t.Skipf("pgtest: %s", why)
}
