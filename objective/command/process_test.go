package command

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pidRuns reports whether pid is a running (not zombie) process.
func pidRuns(pid int) bool {
	state, _, ok := procStat(strconv.Itoa(pid))
	return ok && state != 'Z' && state != 'X'
}

// waitFile waits for a file to hold a line and returns its content.
func waitFile(tb testing.TB, path string) string {
	tb.Helper()
	for range 500 {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("%s never written", path)
	return ""
}

// startSh starts `sh -c script` and returns the process and its
// grandchild's pid, which the script writes to $DIR/child.
func startSh(tb testing.TB, script string) (*Process, int) {
	tb.Helper()
	dir := tb.TempDir()
	p, err := StartProcess([]string{"sh", "-c", script}, dir, append(os.Environ(), "DIR="+dir))
	if err != nil {
		tb.Fatal(err)
	}
	go io.Copy(io.Discard, p.Stdout())
	go io.Copy(io.Discard, p.Stderr())
	tb.Cleanup(func() {
		p.Stop(0)
		p.Release()
	})
	child, err := strconv.Atoi(waitFile(tb, filepath.Join(dir, "child")))
	if err != nil {
		tb.Fatal(err)
	}
	return p, child
}

func TestProcess_Stop(t *testing.T) {
	t.Run("TermKillsTree", func(t *testing.T) {
		p, child := startSh(t, `sleep 300 & echo $! > "$DIR/child"; wait`)
		start := time.Now()
		p.Stop(5 * time.Second)
		if pidRuns(child) || pidRuns(p.Pgid()) {
			t.Fatalf("after Stop: program runs %v, grandchild %d runs %v", pidRuns(p.Pgid()), child, pidRuns(child))
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("Stop took %s for processes that die on SIGTERM", took)
		}
		<-p.Done()
		if p.Success() || !strings.Contains(p.Status(), "signal") && !strings.Contains(p.Status(), "exit status 143") {
			t.Errorf("status %q, want a signal", p.Status())
		}
	})
	t.Run("IgnoredTermGetsKill", func(t *testing.T) {
		// An ignored signal stays ignored across exec: the grandchild
		// ignores SIGTERM too.
		p, child := startSh(t, `trap '' TERM; sleep 300 & echo $! > "$DIR/child"; while :; do sleep 0.05; done`)
		grace := 300 * time.Millisecond
		start := time.Now()
		p.Stop(grace)
		took := time.Since(start)
		if pidRuns(child) || pidRuns(p.Pgid()) {
			t.Fatalf("after Stop: program runs %v, grandchild runs %v", pidRuns(p.Pgid()), pidRuns(child))
		}
		if took < grace {
			t.Errorf("Stop returned after %s, before the %s grace of a program ignoring SIGTERM", took, grace)
		}
		if !strings.Contains(p.Status(), "killed") {
			t.Errorf("status %q, want signal: killed", p.Status())
		}
	})
	t.Run("StragglerAfterExit", func(t *testing.T) {
		// The program exits and leaves a grandchild behind in its group.
		p, child := startSh(t, `trap '' TERM; sleep 300 & echo $! > "$DIR/child"; exit 0`)
		<-p.Done()
		if !pidRuns(child) {
			t.Fatal("grandchild died with the program; the test needs it alive")
		}
		p.Stop(100 * time.Millisecond)
		if pidRuns(child) {
			t.Fatal("grandchild outlived Stop")
		}
		if !p.Success() {
			t.Errorf("status %q, want exit status 0", p.Status())
		}
	})
}

func TestProcess_Status(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"exit 0", "exit status 0"},
		{"exit 3", "exit status 3"},
		{"kill -SEGV $$", "signal: segmentation fault"},
	} {
		p, err := StartProcess([]string{"sh", "-c", tc.script}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, p.Stdout())
		<-p.Done()
		if p.Status() != tc.want {
			t.Errorf("%s: status %q, want %q", tc.script, p.Status(), tc.want)
		}
	}
	if _, err := StartProcess([]string{"/nonexistent/program"}, "", nil); err == nil {
		t.Error("StartProcess of a missing program: no error")
	}
}

// The program does not receive a signal sent to the worker's process
// group (a terminal's Ctrl-C): it is in a group of its own.
func TestProcess_OwnGroup(t *testing.T) {
	p, _ := startSh(t, `echo $$ > "$DIR/child"; sleep 300`)
	if p.Pgid() == syscall.Getpgrp() {
		t.Fatalf("program shares the worker's process group %d", p.Pgid())
	}
	_, pgrp, ok := procStat(strconv.Itoa(p.Pgid()))
	if !ok || pgrp != p.Pgid() {
		t.Fatalf("program's group %d, want its own pid %d", pgrp, p.Pgid())
	}
}
