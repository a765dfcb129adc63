package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sweep/sweep/postgres"
)

func TestPassword(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"postgres://u:s3cret@h/db", "s3cret"},
		{"postgresql://u:p%40ss@h:5432/db?sslmode=disable", "p@ss"},
		{"postgres://u@h/db?password=qp", "qp"},
		{"postgres://u@h/db", ""},
		{"postgres://u:bad%zz@h:x/db", "bad%zz"},
		{"host=h user=u password=kv dbname=d", "kv"},
		{"host=h password = 'a b\\'c' dbname=d", "a b'c"},
		{"host=h passwordx=no dbname=d", ""},
		{"host=h dbname=d", ""},
	}
	for _, c := range cases {
		if got := postgres.Password(c.dsn); got != c.want {
			t.Errorf("Password(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}

func TestOpen_RedactsPassword(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{
		"postgres://u:Sup3rSecretPw@host:badport/db",
		"postgres://u:Sup3r%2FSecretPw@host:badport/db",
		"host=/nonexistent user=u password=Sup3rSecretPw port=bad",
	} {
		_, err := postgres.Open(ctx, dsn)
		if err == nil {
			t.Fatalf("Open(%q): want an error", dsn)
		}
		if msg := err.Error(); strings.Contains(msg, "Sup3r") || strings.Contains(msg, "SecretPw") {
			t.Errorf("Open error shows the password: %s", msg)
		}
		if errors.Unwrap(err) == nil {
			t.Errorf("Open error %q wraps nothing", err)
		}
	}
}
