package command

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process supervises one program run in its own process group, so that the
// program and everything it starts (data-loader workers, a shell's
// children) are signalled and killed together, and a terminal's Ctrl-C,
// which goes to sweep's foreground group, does not reach them: sweep decides
// when they stop.
//
// When the worker dies, even by kill -9, the program gets SIGKILL from the
// kernel (Linux's parent-death signal), and a watcher in its group, a
// `sh` that reads a pipe only the worker holds open, sees the pipe close and
// sends SIGKILL to the whole group, so the processes the program started
// die too. The watcher ignores SIGTERM, is not counted as a process the
// program left behind, and ends the group when Release closes the pipe.
//
// A Process is used by one goroutine, except Done and Stop, which are safe
// to call from any goroutine.
type Process struct {
	cmd    *exec.Cmd
	pgid   int
	stdout *os.File // read end of the program's stdout
	stderr *os.File // read end of the program's stderr
	done   chan struct{}
	state  *os.ProcessState
	err    error // from Wait, beyond the exit status

	watcher  int      // the watcher's pid; 0 without one
	lifeline *os.File // the write end of the watcher's stdin
}

// watchScript is the watcher: it waits for the worker's end of the pipe on
// its stdin to close, then kills its process group, itself included.
const watchScript = `trap '' TERM INT HUP; while read -r x; do :; done; kill -s KILL 0`

// StartProcess starts argv[0] (looked up in PATH when it has no slash) with
// arguments argv[1:], working directory dir and environment env (nil: the
// worker's own), stdin from /dev/null. Read its output with Stdout and
// Stderr until EOF; both must be drained, or the program blocks writing.
func StartProcess(argv []string, dir string, env []string) (*Process, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("command: empty argv")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("create stderr pipe: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = outW, errW // *os.File: passed as is, no copying goroutine
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{cmd: cmd, stdout: outR, stderr: errR, done: make(chan struct{})}
	started := make(chan error)
	go p.run(started)
	err = <-started
	outW.Close() // the child holds its own copies; EOF comes when the group closes them
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p.watch()
	return p, nil
}

// watch starts the watcher in the program's group. Without /bin/sh, or
// when the program has already ended, there is none: the parent-death
// signal still reaches the program itself.
func (p *Process) watch() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchScript)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: p.pgid}
	if err := cmd.Start(); err != nil {
		w.Close()
		return
	}
	p.watcher, p.lifeline = cmd.Process.Pid, w
	go cmd.Wait() // reaped when it kills the group
}

// Release ends the watcher, and with it anything left in the group; call
// it once the trial is over.
func (p *Process) Release() {
	if p.lifeline != nil {
		p.lifeline.Close()
	}
}

// run starts the program and waits for it on one locked OS thread. The
// parent-death signal fires when the thread that forked the program ends,
// not the process, and Go ends a thread when a goroutine locked to it
// exits (the CUDA driver code locks threads): holding the thread for the
// program's life keeps that from killing a healthy trial.
func (p *Process) run(started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	p.pgid = p.cmd.Process.Pid
	started <- nil
	err := p.cmd.Wait()
	p.state = p.cmd.ProcessState
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.err = err
	}
	close(p.done)
}

// Stdout is the program's standard output; it ends when every process of
// the group has closed it. Close it after reading.
func (p *Process) Stdout() io.ReadCloser { return p.stdout }

// Stderr is the program's standard error, as Stdout.
func (p *Process) Stderr() io.ReadCloser { return p.stderr }

// Done is closed when the program (the group leader) has exited and been
// reaped; processes it started may still run (see Stop).
func (p *Process) Done() <-chan struct{} { return p.done }

// Signal sends sig to every process of the group.
func (p *Process) Signal(sig syscall.Signal) error {
	if err := syscall.Kill(-p.pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", p.pgid, err)
	}
	return nil
}

// Stop ends the whole group: SIGTERM to every process, then SIGKILL to
// those left after grace. It returns once the program has exited and no
// process of the group is left, or after grace plus a short wait for the
// kernel when something is unkillable (a zombie nobody reaps). With grace 0
// the group gets SIGKILL at once. Stop after the group is gone does nothing.
func (p *Process) Stop(grace time.Duration) {
	if !p.alive() {
		return
	}
	if grace > 0 {
		_ = p.Signal(syscall.SIGTERM)
		if p.waitGone(grace) {
			return
		}
	}
	_ = p.Signal(syscall.SIGKILL)
	p.waitGone(2 * time.Second)
}

// alive reports whether the program or any process of its group still runs.
func (p *Process) alive() bool {
	select {
	case <-p.done:
	default:
		return true
	}
	// The leader is reaped, so signal 0 finds only the processes it left
	// behind, zombies included: those are dead, but their new parent (an
	// init that does not reap, in some containers) may keep them forever.
	if syscall.Kill(-p.pgid, 0) != nil {
		return false
	}
	return groupRuns(p.pgid, p.watcher)
}

// groupRuns reports whether a process of group pgid other than the
// watcher is running (not a zombie), from /proc; without /proc it assumes
// so.
func groupRuns(pgid, watcher int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		state, group, ok := procStat(e.Name())
		if ok && group == pgid && state != 'Z' && state != 'X' && e.Name() != strconv.Itoa(watcher) {
			return true
		}
	}
	return false
}

// procStat reads the state and process group of /proc/<pid>/stat.
func procStat(pid string) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
}

// waitGone polls until the group is gone or d has passed, and reports
// whether it is gone.
func (p *Process) waitGone(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	done := p.done
	for p.alive() {
		select {
		case <-deadline.C:
			return !p.alive()
		case <-done:
			done = nil // closed: from now on the ticker paces the polls
		case <-tick.C:
		}
	}
	return true
}

// Status describes how the program ended: "exit status 0", "exit status
// 3", "signal: killed". Call it after Done is closed.
func (p *Process) Status() string {
	if p.state == nil {
		if p.err != nil {
			return p.err.Error()
		}
		return "not finished"
	}
	return p.state.String()
}

// Success reports whether the program exited with status 0. Call it after
// Done is closed.
func (p *Process) Success() bool { return p.state != nil && p.state.Success() }

// Pgid is the program's process group id (its pid).
func (p *Process) Pgid() int { return p.pgid }
