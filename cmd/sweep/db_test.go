package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sweep/sweep/pgcluster"
)

func TestNewDBCmd(t *testing.T) {
	cases := []struct {
		argv    string
		want    string // Action|PGDir|Args|Listen|TCP
		wantErr string
	}{
		{argv: "up --pg-dir /d", want: "up|/d|||false"},
		{argv: "up --db-dir /d", want: "up|/d|||false"},
		{argv: "up --data-dir /d", wantErr: "--data-dir names a dataset directory; the PostgreSQL cluster directory is --pg-dir"},
		{argv: "up --listen 0.0.0.0", want: "up|||0.0.0.0|false"},
		{argv: "up --listen off", want: "up|||off|false"},
		{argv: "down", want: "down||||false"},
		{argv: "status", want: "status||||false"},
		{argv: "url --pg-dir x", want: "url|x|||false"},
		{argv: "url --tcp", want: "url||||true"},
		{argv: "url --optuna", want: "url||||false|optuna"},
		{argv: "psql -- -c select", want: "psql||-c select||false"},
		{argv: "up extra", wantErr: `unknown command "extra" for "db up"`},
		{argv: "url --listen x", wantErr: `unknown flag: --listen`},
		{argv: "up --tcp", wantErr: `unknown flag: --tcp`},
		{argv: "up --optuna", wantErr: `unknown flag: --optuna`},
	}
	for _, c := range cases {
		t.Run(c.argv, func(t *testing.T) {
			got, err := parseArgv(t, newDBCmd, c.argv)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprintf("%s|%s|%s|%s|%v", got.Action, got.PGDir, strings.Join(got.Args, " "), got.Listen, got.TCP)
			if got.Optuna {
				s += "|optuna"
			}
			if s != c.want {
				t.Errorf("parsed %q, want %q", s, c.want)
			}
		})
	}
}

func TestRunDB(t *testing.T) {
	dir := t.TempDir()
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"db", "status", "--pg-dir", dir}); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "state\tnot created (sweep db up creates it)") {
		t.Errorf("status of an empty dir:\n%s", out)
	}
	// The read-only actions refuse a directory without a cluster and
	// leave it empty; down has nothing to stop.
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"url"}, exitRuntime, "sweep: no private cluster at " + dir + "; create it with sweep db up (or by starting a study), or pass --pg-dir where it lives\n"},
		{[]string{"url", "--optuna"}, exitRuntime, "sweep: no private cluster at " + dir + "; create it with sweep db up (or by starting a study), or pass --pg-dir where it lives\n"},
		{[]string{"psql", "--", "-c", "SELECT 1"}, exitRuntime, "sweep: no private cluster at " + dir + "; create it with sweep db up (or by starting a study), or pass --pg-dir where it lives\n"},
		{[]string{"down"}, exitOK, "no private cluster at " + dir + "; nothing to stop\n"},
	} {
		e, _, errOut, _ := newTestEnv(false)
		args := append([]string{"db", c.args[0], "--pg-dir", dir}, c.args[1:]...)
		if code := run(context.Background(), e, args); code != c.code || errOut.String() != c.want {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", args, code, errOut, c.code, c.want)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the empty cluster dir now holds %d entries (%v)", len(entries), err)
	}
}

// TestRunDB_Listen brings a private cluster up with TCP on and checks what
// the db commands print: the socket URL, the TCP URL and the password
// file's name, never the password.
func TestRunDB_Listen(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	if err := os.Chmod(filepath.Dir(parent), 0o755); err != nil { // the server user must enter it as root
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "pg")
	db := func(args ...string) (string, string) {
		t.Helper()
		e, out, errOut, _ := newTestEnv(false)
		if code := run(ctx, e, append([]string{"db"}, append(args, "--pg-dir", dir)...)); code != 0 {
			t.Fatalf("db %v: exit %d: %s", args, code, errOut)
		}
		return out.String(), errOut.String()
	}
	t.Cleanup(func() { db("down") })
	up, upErr := db("up", "--listen", "127.0.0.1")
	if !strings.HasPrefix(up, "postgres://sweep@/sweep?host="+dir+"/run&port=") {
		t.Errorf("db up printed %q; want the socket URL", up)
	}
	c, _ := pgcluster.New(dir)
	pw, err := c.Password()
	if err != nil || pw == "" {
		t.Fatalf("password: %q, %v", pw, err)
	}
	tcp, _ := db("url", "--tcp")
	if !strings.HasPrefix(tcp, "postgres://sweep@127.0.0.1:") || !strings.Contains(upErr, strings.TrimSpace(tcp)) ||
		!strings.Contains(upErr, c.PassFile()) {
		t.Errorf("db url --tcp = %q; db up said %q", tcp, upErr)
	}
	status, _ := db("status")
	if !strings.Contains(status, "tcp\t"+strings.TrimSpace(tcp)+" (password in "+c.PassFile()+")") {
		t.Errorf("db status:\n%s", status)
	}
	url, _ := db("url")
	for name, text := range map[string]string{"up": up + upErr, "url --tcp": tcp, "status": status, "url": url} {
		if strings.Contains(text, pw) {
			t.Errorf("db %s shows the password", name)
		}
	}
	if url != up {
		t.Errorf("db url = %q, db up = %q", url, up)
	}
	ou, _ := db("url", "--optuna")
	ou = strings.TrimSpace(ou)
	if want := "postgresql" + strings.TrimPrefix(strings.TrimSpace(up), "postgres") + "&options=-csearch_path%3Doptuna"; ou != want {
		t.Errorf("db url --optuna = %q, want %q", ou, want)
	}
	conn, err := sql.Open("postgres", ou)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rev string
	if err := conn.QueryRow(`SELECT version_num FROM alembic_version`).Scan(&rev); err != nil || rev != "v3.0.0.d" {
		t.Errorf("alembic_version through the optuna URL: %q, %v", rev, err)
	}
	newer, err := sql.Open("postgres", ou+"+-csweep.optuna_revision%3Dv3.2.0.a")
	if err != nil {
		t.Fatal(err)
	}
	defer newer.Close()
	if err := newer.QueryRow(`SELECT version_num FROM alembic_version`).Scan(&rev); err != nil || rev != "v3.2.0.a" {
		t.Errorf("alembic_version with sweep.optuna_revision set: %q, %v", rev, err)
	}
	if ot, _ := db("url", "--optuna", "--tcp"); !strings.HasPrefix(ot, "postgresql://sweep@127.0.0.1:") ||
		!strings.HasSuffix(ot, "?sslmode=disable&options=-csearch_path%3Doptuna\n") {
		t.Errorf("db url --optuna --tcp = %q", ot)
	}
}

func TestResolveDSN(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const pwDSN = "postgres://u:secretpw@h/db"
	private := writeFile(t, dir, "private", pwDSN+"\n")
	if err := os.Chmod(private, 0o600); err != nil {
		t.Fatal(err)
	}
	readable := writeFile(t, dir, "readable", pwDSN+"\n")
	if err := os.Chmod(readable, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, flag, env string
		want, warn      string // warn: substring of stderr, "" = none
		wantErr         string
	}{
		{name: "flag", flag: "postgres://u@h/db", want: "postgres://u@h/db"},
		{name: "flag with password", flag: pwDSN, want: pwDSN, warn: "--db carries a password"},
		{name: "flag file", flag: "@" + private, want: pwDSN},
		{name: "readable file", flag: "@" + readable, want: pwDSN, warn: "(mode 0644) holds a password"},
		{name: "env", env: pwDSN, want: pwDSN},
		{name: "env file", env: "@" + private, want: pwDSN},
		{name: "flag over env", flag: "postgres://a@h/db", env: pwDSN, want: "postgres://a@h/db"},
		{name: "missing file", flag: "@" + dir + "/none", wantErr: "read --db file: open " + dir + "/none: no such file or directory"},
		{name: "empty file", env: "@" + writeFile(t, dir, "empty", "\n"), wantErr: "read SWEEP_DB file " + dir + "/empty: no DSN in it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _, errOut, _ := newTestEnv(false)
			e.Getenv = func(k string) string {
				if k == "SWEEP_DB" {
					return c.env
				}
				return ""
			}
			src, err := resolveDSN(ctx, e, c.flag, "/nonexistent/never", false)
			got := src.DSN
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("resolveDSN = %q, %v; want %q", got, err, c.want)
			}
			if from := map[bool]string{true: "--db", false: "$SWEEP_DB"}[c.flag != ""]; src.From != from {
				t.Errorf("source %q, want %q", src.From, from)
			}
			if (c.warn == "") != (errOut.Len() == 0) || !strings.Contains(errOut.String(), c.warn) {
				t.Errorf("stderr %q, want warning %q", errOut, c.warn)
			}
			if strings.Contains(errOut.String(), "secretpw") {
				t.Errorf("warning shows the password: %s", errOut)
			}
		})
	}
}
