package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ServeOptions configures [StartServe]. The zero value runs "qcgate serve"
// in front of the given Orthanc with a temporary report store.
type ServeOptions struct {
	// Env holds extra "NAME=value" environment variables for the command,
	// which win over the harness's own QCGATE_ settings. Nil adds none.
	Env []string
	// Args are extra arguments after "serve". Nil adds none.
	Args []string
	// Upstream is the DICOMweb root the gateway forwards to. Empty means
	// the Orthanc's DICOMwebURL; a [Tap] in front of Orthanc is the other
	// use.
	Upstream string
	// NoAuth turns the gateway's authentication off
	// (QCGATE_AUTH_DISABLED). Default false: the gateway checks HS256
	// tokens that [Serve.Tokens] mints.
	NoAuth bool
}

// Serve is a running "qcgate serve" child process, stopped with SIGTERM
// when the test that started it ends.
type Serve struct {
	// URL is the gateway's root, for example "http://127.0.0.1:41235".
	URL string
	// StorePath is the SQLite report database.
	StorePath string
	// Tokens mints tokens the gateway accepts; nil with NoAuth.
	Tokens *Tokens

	proc *process
	tb   testing.TB
}

// BuildQcgate builds the qcgate command into a temporary folder of the
// test and returns its path.
func BuildQcgate(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("building qcgate: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "qcgate")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./cmd/qcgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/qcgate: %v\n%s", err, out)
	}
	return bin
}

// StartServe builds qcgate and runs "qcgate serve" in front of o, configured
// only through QCGATE_ environment variables (listen address, upstream and
// its credentials from a password file, report store, token secret file,
// then opts.Env), and
// waits until /healthz answers. QCGATE_ variables of the test's own
// environment are not passed on.
func StartServe(t testing.TB, o *Orthanc, opts ServeOptions) *Serve {
	t.Helper()
	bin := BuildQcgate(t)
	dir := t.TempDir()
	passwordFile := filepath.Join(dir, "upstream-password")
	if err := os.WriteFile(passwordFile, []byte(o.Password+"\n"), 0o600); err != nil {
		t.Fatalf("writing password file: %v", err)
	}
	upstream := opts.Upstream
	if upstream == "" {
		upstream = o.DICOMwebURL
	}
	var tokens *Tokens
	authEnv := "QCGATE_AUTH_DISABLED=true"
	if !opts.NoAuth {
		tokens = newTokens(t, dir)
		authEnv = "QCGATE_AUTH_HS256_SECRET_FILE=" + tokens.SecretFile
	}

	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("%v", err)
		}
		s := &Serve{
			URL:       "http://127.0.0.1:" + strconv.Itoa(port),
			StorePath: filepath.Join(dir, "reports.db"),
			Tokens:    tokens,
			tb:        t,
		}
		env := []string{
			"QCGATE_LISTEN=127.0.0.1:" + strconv.Itoa(port),
			"QCGATE_UPSTREAM=" + upstream,
			"QCGATE_UPSTREAM_USER=" + o.User,
			"QCGATE_UPSTREAM_PASSWORD_FILE=" + passwordFile,
			"QCGATE_STORE=" + s.StorePath,
			authEnv,
		}
		env = append(env, opts.Env...)
		args := append([]string{"serve"}, opts.Args...)
		// qcgate refuses unknown QCGATE_ variables, and the caller's own
		// settings must not leak in: only the ones above count.
		s.proc, err = startProcess("qcgate", dir, bin, args, env, "QCGATE_")
		if err != nil {
			t.Fatalf("%v", err)
		}
		if err := waitReady(s.proc, s.URL+"/healthz", "", ""); err != nil {
			_, _ = s.proc.stop()
			lastErr = fmt.Errorf("%w; log:\n%s", err, s.proc.logTail())
			continue
		}
		s.proc.cleanup(t)
		return s
	}
	t.Fatalf("starting qcgate serve: %v", lastErr)
	return nil
}

// Client returns a client of the gateway that sends a token with
// [DefaultRoles] (none with NoAuth).
func (s *Serve) Client() *Client { return s.Tokens.client(s.tb, s.URL, DefaultRoles...) }

// ClientAs returns a client of the gateway whose token has the given roles
// (no token with NoAuth).
func (s *Serve) ClientAs(roles ...string) *Client { return s.Tokens.client(s.tb, s.URL, roles...) }

// PID is the process ID of the gateway.
func (s *Serve) PID() int { return s.proc.PID() }

// Log is what the gateway has logged so far.
func (s *Serve) Log(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(s.proc.logPath)
	if err != nil {
		t.Fatalf("reading qcgate log: %v", err)
	}
	return string(data)
}

// Stop stops the gateway now, as its test's end would, and returns its
// log. The test fails when it does not end cleanly.
func (s *Serve) Stop(t testing.TB) string {
	t.Helper()
	if _, err := s.proc.stop(); err != nil {
		t.Errorf("%v", err)
	}
	return s.Log(t)
}

// ExitedCleanly reports whether the gateway has ended with exit status 0.
func (s *Serve) ExitedCleanly() bool {
	return s.proc.exited() && s.proc.waitErr == nil
}

// PeakRSS is the gateway's peak resident set size so far in bytes, the
// VmHWM line of /proc/PID/status (Linux only).
func (s *Serve) PeakRSS(t testing.TB) int64 {
	t.Helper()
	n, err := ProcStatusKB(s.PID(), "VmHWM")
	if err != nil {
		t.Fatalf("reading peak RSS: %v", err)
	}
	return n * 1024
}

// ProcStatusKB reads the number of a "Name:   N kB" line of /proc/PID/status
// (Linux only), for example VmHWM, the peak resident set size.
func ProcStatusKB(pid int, name string) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != name {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("process status line %q: unexpected form", sc.Text())
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	return 0, fmt.Errorf("process status: no %s line", name)
}

// moduleRoot finds the folder of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
