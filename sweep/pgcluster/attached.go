package pgcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Server is a postgres process attached to the calling process: it is a
// direct child that the kernel stops (SIGQUIT, immediate shutdown) when
// this process dies, even by SIGKILL. Test harnesses use it so that no
// server outlives a test binary; the CLI uses Up, whose server is detached.
type Server struct {
	// URL is the DSN of the "sweep" database.
	URL string
	// Port is the server's port: the socket's name, and the TCP port when
	// the cluster listens.
	Port int
	// TCPURL is the TCP DSN (no password: see Cluster.PassFile), when the
	// cluster listens.
	TCPURL string

	cmd  *exec.Cmd
	done chan error // receives the process's exit once
	err  error      // the exit, after done was read
}

// Start initialises the cluster when needed and runs the server attached
// to this process (see Server). The cluster must not be running already.
// Stop it with Server.Stop.
func (c *Cluster) Start(ctx context.Context) (*Server, error) {
	p, unlock, err := c.prepare(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st := c.state(); st.Running {
		return nil, fmt.Errorf("start attached postgres: %s is already running (pid %d)", c.Dir, st.PID)
	}
	s := &Server{}
	port, err := c.startWith(ctx, p, func(port int) error {
		return s.spawn(ctx, c, p.owner, port)
	})
	if err != nil {
		return nil, err
	}
	s.Port, s.URL = port, c.socketDSN(port, Database)
	if p.listen != "" {
		s.TCPURL = tcpDSN(listenHost(p.listen), port, Database)
	}
	if err := c.afterStart(ctx, p, port); err != nil {
		s.Stop(context.Background())
		return nil, err
	}
	return s, nil
}

// spawn starts postgres and waits until it accepts connections.
func (s *Server) spawn(ctx context.Context, c *Cluster, o owner, port int) error {
	logf, err := os.OpenFile(c.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	// Not CommandContext: the server must outlive ctx, which only bounds
	// the start-up.
	cmd := o.command(context.Background(), c.Dir, filepath.Join(c.BinDir, "postgres"), "-D", c.pgdata())
	cmd.Stdout, cmd.Stderr = logf, logf
	done, err := startTied(cmd, syscall.SIGQUIT)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd, s.done = cmd, done
	return s.waitReady(ctx, c.socketDSN(port, "postgres"))
}

// waitReady polls until the server accepts connections, exits, or 60 s
// pass (crash recovery of a big cluster can take a while).
func (s *Server) waitReady(ctx context.Context, dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open postgres database: %w", err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := db.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.err = werr
			s.done <- werr
			return fmt.Errorf("start postgres: server exited: %v", werr)
		case <-ctx.Done():
			s.Stop(context.Background())
			return fmt.Errorf("start postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop(context.Background())
			return fmt.Errorf("start postgres: not ready after 60s: %w", err)
		}
	}
}

// Stop shuts the server down (fast shutdown: sessions are disconnected)
// and waits for it; after ctx ends it kills it instead. Stopping twice is
// harmless.
func (s *Server) Stop(ctx context.Context) error {
	if s == nil {
		return nil
	}
	return stopProcess(ctx, s.cmd, s.done, syscall.SIGINT, "postgres")
}

// startTied starts cmd as a child that gets deathSig when this process
// dies, in its own process group (a terminal's ^C goes to us, not to it),
// and returns the channel its Wait result arrives on, once. The
// parent-death signal fires when the thread that forked the child exits,
// so the fork happens on a thread locked for the child's whole life: the
// goroutine keeps it until the child exits.
func startTied(cmd *exec.Cmd, deathSig syscall.Signal) (chan error, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	cmd.SysProcAttr.Setpgid = true
	started, done := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// stopProcess sends sig to cmd's process and waits for its exit on done
// (which holds the Wait result and gets it back, so stopping twice is
// harmless); after ctx ends it kills the process instead.
func stopProcess(ctx context.Context, cmd *exec.Cmd, done chan error, sig syscall.Signal, name string) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	select {
	case err := <-done:
		done <- err
		return exitErr(err)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		err := <-done
		done <- err
		return fmt.Errorf("stop %s: %w", name, ctx.Err())
	}
}

// exitErr treats the normal exits after a shutdown signal as success.
func exitErr(err error) error {
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) || errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return fmt.Errorf("stop postgres: %w", err)
}
