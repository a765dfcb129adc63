package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// findBinDir locates the PostgreSQL server binaries: `pg_config --bindir`
// when it names a directory holding initdb (on Debian pg_config belongs to
// libpq-dev and may point elsewhere), else the highest-versioned
// /usr/lib/postgresql/*/bin.
func findBinDir(ctx context.Context) (string, error) {
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasServer(dir) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	for _, dir := range matches {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w (looked at pg_config --bindir and /usr/lib/postgresql/*/bin); install them with: %s",
		ErrNotInstalled, installHint())
}

// FindServer locates the server binaries a new cluster would use and returns
// their directory and version ("16.4"), for sweep doctor. It starts nothing.
func FindServer(ctx context.Context) (binDir, version string, err error) {
	if binDir, err = findBinDir(ctx); err != nil {
		return "", "", err
	}
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return binDir, "", fmt.Errorf("run postgres --version: %w", err)
	}
	// "postgres (PostgreSQL) 16.4 (Debian 16.4-1.pgdg120+2)"
	line := strings.TrimSpace(string(out))
	if _, rest, ok := strings.Cut(line, "(PostgreSQL) "); ok && rest != "" {
		return binDir, strings.Fields(rest)[0], nil
	}
	return binDir, line, nil
}

// installHint is the command that installs the server on Debian/Ubuntu.
func installHint() string {
	if os.Geteuid() != 0 {
		return "sudo apt-get install postgresql"
	}
	return "apt-get install postgresql"
}

// pgVersion parses the major version out of /usr/lib/postgresql/<v>/bin.
func pgVersion(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// owner is the OS account the server runs as, and the accounts allowed to
// connect over the socket. For a non-root caller both are the caller itself
// (cred nil: no switch).
type owner struct {
	name     string
	uid, gid int
	cred     *syscall.Credential
	clients  []string // OS user names mapped to the role (pg_ident.conf)
}

// serverOwner picks the account: the caller, or as root the SystemUser
// (created on first use). There is no fallback to a shared account such as
// nobody: every other process running as it could then use the cluster.
func serverOwner(ctx context.Context) (owner, error) {
	if os.Geteuid() != 0 {
		u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
		if err != nil {
			return owner{}, fmt.Errorf("find the name of uid %d for peer authentication: %w", os.Geteuid(), err)
		}
		return owner{name: u.Username, uid: os.Geteuid(), gid: os.Getegid(), clients: []string{u.Username}}, nil
	}
	u, err := user.Lookup(SystemUser)
	if err != nil {
		// useradd is the portable way to add a system account.
		out, uerr := exec.CommandContext(ctx, "useradd", "--system", "--user-group",
			"--home-dir", "/nonexistent", "--no-create-home", "--shell", "/usr/sbin/nologin", SystemUser).CombinedOutput()
		if uerr != nil {
			return owner{}, fmt.Errorf("create system user %s to run postgres as root (PostgreSQL refuses root): %w: %s",
				SystemUser, uerr, strings.TrimSpace(string(out)))
		}
		if u, err = user.Lookup(SystemUser); err != nil {
			return owner{}, fmt.Errorf("find system user %s: %w", SystemUser, err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return owner{
		name: u.Username, uid: uid, gid: gid,
		cred:    &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		clients: []string{"root", u.Username},
	}, nil
}

// checkTraversable verifies that o can reach dir: every existing ancestor
// must grant it search (x) permission. Root's home (0700) is the usual
// offender.
func (o owner) checkTraversable(dir string) error {
	if o.cred == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			st, _ := fi.Sys().(*syscall.Stat_t)
			mode := fi.Mode().Perm()
			ok := mode&0o001 != 0 ||
				(st != nil && int(st.Uid) == o.uid && mode&0o100 != 0) ||
				(st != nil && int(st.Gid) == o.gid && mode&0o010 != 0)
			if !ok {
				return fmt.Errorf("check data dir %s: the server runs as user %q (PostgreSQL refuses root), "+
					"which cannot enter %s (mode %o); use a data dir outside it, e.g. %s",
					dir, o.name, p, mode, rootDefDir)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// chown hands paths to the owner (no-op when not switching users).
func (o owner) chown(paths ...string) error {
	if o.cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, o.uid, o.gid); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
	}
	return nil
}

// command builds an exec.Cmd running as the owner, with a clean PG*
// environment so a user's PGDATA or PGPORT cannot redirect it.
func (o owner) command(ctx context.Context, dir, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	env := []string{"LC_ALL=C", "LANG=C", "PATH=" + os.Getenv("PATH")}
	if o.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
		env = append(env, "HOME="+dir)
	} else {
		env = append(env, "HOME="+os.Getenv("HOME"))
	}
	cmd.Env = env
	return cmd
}

// run runs cmd and folds its output into the error.
func run(cmd *exec.Cmd, what string) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			return fmt.Errorf("%s: %w: %s", what, err, msg)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// processAlive reports whether pid is a live postgres process (EPERM from
// kill means it exists, owned by someone else). After a crash or reboot a
// stale postmaster.pid may name a PID reused by another program; /proc's
// comm tells them apart where it exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err != nil || strings.HasPrefix(string(comm), "postgres")
}
