package main

import (
	"context"
	"strings"
	"testing"
)

func TestNewDBCmd(t *testing.T) {
	cases := []struct {
		argv    string
		want    string // Action|DataDir|Args
		wantErr string
	}{
		{argv: "up --data-dir /d", want: "up|/d|"},
		{argv: "down", want: "down||"},
		{argv: "status", want: "status||"},
		{argv: "url --data-dir x", want: "url|x|"},
		{argv: "psql -- -c select", want: "psql||-c select"},
		{argv: "up extra", wantErr: `unknown command "extra" for "db up"`},
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
			if s := got.Action + "|" + got.DataDir + "|" + strings.Join(got.Args, " "); s != c.want {
				t.Errorf("parsed %q, want %q", s, c.want)
			}
		})
	}
}

func TestRunDB(t *testing.T) {
	dir := t.TempDir()
	e, out, errOut, _ := newTestEnv(false)
	if code := run(context.Background(), e, []string{"db", "status", "--data-dir", dir}); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "state\tnot created (sweep db up creates it)") {
		t.Errorf("status of an empty dir:\n%s", out)
	}
	e, _, errOut, _ = newTestEnv(false)
	if code := run(context.Background(), e, []string{"db", "url", "--data-dir", dir}); code != 1 || !strings.Contains(errOut.String(), "has not been started yet (run: sweep db up)") {
		t.Errorf("url before up: exit %d, %s", code, errOut)
	}
}
