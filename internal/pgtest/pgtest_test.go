package pgtest_test

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"sweep/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDSN(t *testing.T) {
	var first string
	t.Run("Fresh", func(t *testing.T) {
		first = pgtest.DSN(t)
		second := pgtest.DSN(t)
		if first == second {
			t.Fatalf("two calls returned the same database %q", first)
		}
		a, err := sql.Open("postgres", first)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := sql.Open("postgres", second)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := a.Exec(`CREATE TABLE only_in_a (x int)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := b.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("table leaked into the second database: n=%d err=%v", n, err)
		}
	})
	t.Run("DroppedAfterTest", func(t *testing.T) {
		db, err := sql.Open("postgres", first)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ping(); err == nil {
			t.Fatalf("database %q still exists after its test ended", first)
		}
	})
}

func TestPasswordDSN(t *testing.T) {
	dsn, pw := pgtest.PasswordDSN(t)
	if pw == "" || !strings.Contains(dsn, pw) {
		t.Fatalf("PasswordDSN = %q, %q: want the password inside the DSN", dsn, pw)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatalf("connect with the password: %v", err)
	}
	if os.Getenv(pgtest.EnvDSN) != "" {
		return
	}
	// The private cluster checks it: a wrong password is refused.
	wrong, err := sql.Open("postgres", strings.Replace(dsn, pw, "wrong"+pw, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if err := wrong.Ping(); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("connect with a wrong password: %v; want password authentication failed", err)
	}
}
