package pgcluster_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sweep/sweep/pgcluster"
)

// helperEnv selects the connection helper: the test binary, re-executed as
// another Unix user, tries each way in and prints one line per way.
const helperEnv = "SWEEP_PGCLUSTER_CONNECT_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		connectHelper(os.Stdout)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// connectHelper tries the socket DSN and the TCP DSN (with PGPASSFILE as
// given, and with a guessed password) and prints "way: ok" or "way: error".
func connectHelper(w io.Writer) {
	try := func(way, dsn string) {
		db, err := sql.Open("postgres", dsn)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
		}
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", way, err)
			return
		}
		fmt.Fprintf(w, "%s: ok\n", way)
	}
	try("socket", os.Getenv("HELPER_SOCKET_DSN"))
	tcp := os.Getenv("HELPER_TCP_DSN")
	try("tcp", tcp)
	try("tcp-guess", strings.Replace(tcp, "sweep@", "sweep:sweep@", 1))
	_, err := os.ReadFile(os.Getenv("PGPASSFILE"))
	fmt.Fprintf(w, "passfile: %v\n", err)
}

// runHelper runs the test binary as uid/gid (nil cred: as this process)
// and returns each way's result.
func runHelper(t *testing.T, bin string, cred *syscall.Credential, env ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append([]string{helperEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		way, msg, _ := strings.Cut(line, ": ")
		res[way] = msg
	}
	return res
}

// TestCluster_SecondUser is the done-when test: a private cluster
// started by one Unix user admits its owner and the owner's workers, over
// the socket and (with the password file) over TCP, and refuses a second
// user on both.
func TestCluster_SecondUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a connection attempt as a second Unix user (CI runs as root)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	c.Listen = "127.0.0.1"
	s, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	if pw, _ := c.Password(); pw == "" || strings.Contains(s.URL+s.TCPURL, pw) {
		t.Fatalf("password %q: missing, or shown in %s / %s", pw, s.URL, s.TCPURL)
	}
	for path, want := range map[string]os.FileMode{c.Dir: 0o700, c.SocketDir(): 0o700, c.PassFile(): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %04o", path, fi.Mode().Perm(), err, want)
		}
	}

	// The test binary may sit in a directory only root can enter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir, err := os.MkdirTemp("", "pgcluster-helper-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(binDir)
	bin := filepath.Join(binDir, "helper")
	copyFile(t, exe, bin)
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"HELPER_SOCKET_DSN=" + s.URL, "HELPER_TCP_DSN=" + s.TCPURL, "PGPASSFILE=" + c.PassFile()}

	// The owner (root here) and its workers: socket by peer, TCP by password file.
	owner := runHelper(t, bin, nil, env...)
	if owner["socket"] != "ok" || owner["tcp"] != "ok" {
		t.Errorf("owner: socket %q, tcp %q; want both ok", owner["socket"], owner["tcp"])
	}
	if owner["tcp-guess"] == "ok" {
		t.Errorf("owner with a guessed password: ok; want refused")
	}

	// A second user: nothing works, and the password file is unreadable.
	other := secondUser(t, c.Dir)
	got := runHelper(t, bin, other, env...)
	t.Logf("second user (uid %d): %v", other.Uid, got)
	for _, way := range []string{"socket", "tcp", "tcp-guess"} {
		if got[way] == "ok" || got[way] == "" {
			t.Errorf("second user via %s: %q; want refused", way, got[way])
		}
	}
	if !strings.Contains(got["socket"], "permission denied") {
		t.Errorf("second user via socket: %q; want permission denied", got["socket"])
	}
	if !strings.Contains(got["tcp"], "password") || !strings.Contains(got["tcp-guess"], "password authentication failed") {
		t.Errorf("second user via tcp: %q / %q; want password refusals", got["tcp"], got["tcp-guess"])
	}
	if got["passfile"] == "<nil>" {
		t.Errorf("second user read the password file")
	}

	// Second layer: even with the directories and socket opened up, peer
	// authentication maps only the owner's accounts to the role.
	for _, d := range []string{c.Dir, c.SocketDir(), filepath.Join(c.SocketDir(), ".s.PGSQL."+strconv.Itoa(s.Port))} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	got = runHelper(t, bin, other, env...)
	if !strings.Contains(got["socket"], "Peer authentication failed") {
		t.Errorf("second user via an opened socket dir: %q; want Peer authentication failed", got["socket"])
	}
}

// secondUser returns the credential of an account that owns neither the
// cluster nor this process: nobody.
func secondUser(t *testing.T, dir string) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("find user nobody for the second-user test: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) == uid {
		t.Fatalf("nobody owns the cluster %s; the second user must be someone else", dir)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCluster_Listen checks TCP: off by default, on with a password only
// when Listen asks (the URL never holding it), and off again.
func TestCluster_Listen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	t.Cleanup(func() { c.Down(context.Background()) })
	dsn, err := c.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ping(t, dsn)
	st, _ := c.Status(ctx)
	if st.TCPURL != "" || st.Listen != "" {
		t.Fatalf("default cluster listens on TCP: %+v", st)
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(st.Port)), time.Second); err == nil {
		conn.Close()
		t.Fatalf("port %d accepts TCP connections with TCP off", st.Port)
	}
	if _, err := c.TCPURL(); err == nil || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("TCPURL with TCP off: %v; want a hint at --listen", err)
	}

	c.Listen = "127.0.0.1"
	if _, err := c.Up(ctx); err != nil {
		t.Fatal(err)
	}
	tcp, err := c.TCPURL()
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.Password()
	if err != nil || len(pw) < 20 {
		t.Fatalf("password %q, %v", pw, err)
	}
	if strings.Contains(tcp, pw) {
		t.Fatalf("TCP URL %q shows the password", tcp)
	}
	if err := tryPing(tcp); err == nil {
		t.Errorf("TCP without a password: connected; want refused")
	}
	if err := tryPing(tcp + "&passfile=" + c.PassFile()); err != nil {
		t.Errorf("TCP with the password file: %v", err)
	}
	// Later Ups without Listen (sweep start) keep TCP on.
	c2, _ := pgcluster.New(c.Dir)
	if _, err := c2.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tryPing(tcp + "&passfile=" + c.PassFile()); err != nil {
		t.Errorf("TCP after a plain Up: %v", err)
	}
	c2.Listen = pgcluster.ListenOff
	if _, err := c2.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tryPing(tcp + "&passfile=" + c.PassFile()); err == nil {
		t.Errorf("TCP after Listen off: connected")
	}
	log, _ := os.ReadFile(c.LogPath())
	if bytes.Contains(log, []byte(pw)) {
		t.Errorf("server log holds the password")
	}
}

func tryPing(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// TestCluster_MigratesTrust turns a cluster into one made by an older
// sweep (trust for everyone, a 0755 directory) and checks that the next Up
// narrows it, says so once, and keeps the data.
func TestCluster_MigratesTrust(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCluster(t)
	t.Cleanup(func() { c.Down(context.Background()) })
	dsn, err := c.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, dsn, `CREATE TABLE kept (x int)`)
	hba := filepath.Join(c.Dir, "pgdata", "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.1/32 trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var notes bytes.Buffer
	c.Notify = &notes
	if _, err := c.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "migrating the private cluster in "+c.Dir+" from trust to peer") {
		t.Errorf("notice = %q", notes.String())
	}
	b, _ := os.ReadFile(hba)
	if strings.Contains(string(b), "trust") {
		t.Errorf("pg_hba.conf still trusts:\n%s", b)
	}
	if fi, _ := os.Stat(c.Dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %04o after migration; want 0700", fi.Mode().Perm())
	}
	mustExec(t, dsn, `SELECT * FROM kept`)
	notes.Reset()
	if _, err := c.Up(ctx); err != nil || notes.Len() != 0 {
		t.Errorf("second Up: %v, notice %q; want no notice", err, notes.String())
	}
}

func mustExec(t *testing.T, dsn, q string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestCluster_RefusesForeignDir: a data dir that others can write, or that
// belongs to another user, is refused before anything is written into it.
func TestCluster_RefusesForeignDir(t *testing.T) {
	c := newCluster(t)
	if err := os.Chmod(c.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := c.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "writable by other users (mode 0777)") {
		t.Fatalf("Up on a 0777 dir: %v", err)
	}
	if err := os.Chmod(c.Dir, 0o770); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Up(context.Background()); err == nil || !strings.Contains(err.Error(), "writable by other users (mode 0770)") {
		t.Fatalf("Up on a group-writable dir: %v", err)
	}
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 0 {
		t.Errorf("refused dir was written to: %v", entries)
	}
	if os.Geteuid() != 0 {
		return
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(c.Dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Up(context.Background()); err == nil || !strings.Contains(err.Error(), "belongs to") ||
		!strings.Contains(err.Error(), "another user controls") {
		t.Fatalf("Up on a dir of another user: %v", err)
	}
}
