package harness

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Stop timings of child processes. Orthanc 1.10 takes 2 to 4 s to stop
// after SIGTERM.
const (
	stopGrace = 10 * time.Second
	killWait  = 5 * time.Second
)

// logTailLines is how many lines of a child's log a failed test prints.
const logTailLines = 200

// process is a child process whose standard output and error go to a file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
	stopped bool
}

// startProcess starts bin with args and env, added to this process's
// environment less the variables whose names start with dropPrefix (none
// when it is empty), logging to a new file in dir. It does not wait for
// readiness.
func startProcess(name, dir, bin string, args, env []string, dropPrefix string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", name, err)
	}
	defer logFile.Close()

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if dropPrefix == "" || !strings.HasPrefix(kv, dropPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}

	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID of the child.
func (p *process) PID() int { return p.cmd.Process.Pid }

// exited reports whether the child has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopGrace and then kills the child. It
// returns how long the child took to end and an error when it had to be
// killed or had already ended on its own.
func (p *process) stop() (time.Duration, error) {
	if p.exited() {
		if p.stopped {
			return 0, nil
		}
		return 0, fmt.Errorf("%s ended before it was stopped: %w", p.name, p.exitErr())
	}
	p.stopped = true

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("signalling %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return time.Since(start), nil
	case <-time.After(stopGrace):
	}

	// It ignored SIGTERM: kill it so that no child outlives the test.
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(killWait):
	}
	return time.Since(start), fmt.Errorf("%s did not stop within %v of SIGTERM", p.name, stopGrace)
}

// exitErr describes how an ended child ended.
func (p *process) exitErr() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// logTail is the end of the child's log, for failure messages.
func (p *process) logTail() string { return logTail(p.logPath) }

// printLogTail logs the end of a log file to the test.
func printLogTail(t testing.TB, name, path string) {
	t.Helper()
	t.Logf("%s log (%s), last %d lines:\n%s", name, path, logTailLines, logTail(path))
}

// logTail is the end of a log file.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()

	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > logTailLines {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// cleanup stops the child when the test ends and prints its log when the
// test failed or the child did not end cleanly.
func (p *process) cleanup(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		took, err := p.stop()
		if err != nil {
			t.Errorf("%v", err)
		}
		if t.Failed() {
			printLogTail(t, p.name, p.logPath)
		}
		if took > 0 {
			t.Logf("%s stopped in %v", p.name, took.Round(10*time.Millisecond))
		}
	})
}

// freePort returns a TCP port that was free on all addresses a moment ago.
// Another process may take it before the caller binds it: callers retry.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// requireTool skips the test when a program the harness needs is missing,
// or fails it under CI, where everything must be installed.
func requireTool(t testing.TB, path, why string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := fmt.Sprintf("%s not found: %s", path, why)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skip(msg)
}
