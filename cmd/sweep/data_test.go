package main

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sweep/trainer/data"
)

// dataTestEnv returns an env with buffers, a fixed clock and vars as the
// environment.
func dataTestEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		In:     strings.NewReader(""),
		Out:    &out,
		Err:    &errb,
		Now:    func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Getenv: func(k string) string { return vars[k] },
	}, &out, &errb
}

func TestNewDataFetchCmd(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want dataFetchOptions
	}{
		{"Defaults", nil, nil, dataFetchOptions{DataDir: data.DefaultDir, URL: data.DefaultURL, MD5: data.DefaultMD5}},
		{"Env", nil, map[string]string{"SWEEP_DATA": "/d"}, dataFetchOptions{DataDir: "/d", URL: data.DefaultURL, MD5: data.DefaultMD5}},
		{"FlagsWin", []string{"--data-dir", "/f", "--url", "http://mirror/x.tgz", "--md5", "abc", "--force"},
			map[string]string{"SWEEP_DATA": "/d"}, dataFetchOptions{DataDir: "/f", URL: "http://mirror/x.tgz", MD5: "abc", Force: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := dataTestEnv(tc.env)
			var got *dataFetchOptions
			cmd := newDataFetchCmd(e, func(_ context.Context, o *dataFetchOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			got.env = nil
			if *got != tc.want {
				t.Errorf("options = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestNewDataPreviewCmd(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{nil, "--out is required"},
		{[]string{"--out", "x.png", "--strength", "1.5"}, "--strength 1.5: want a value in [0, 1]"},
		{[]string{"--out", "x.png", "--n", "0"}, "--n, --cols and --scale must be at least 1"},
		{[]string{"--out", "x.png", "extra"}, `unknown command "extra" for "preview"`},
	} {
		e, _, _ := dataTestEnv(nil)
		cmd := newDataPreviewCmd(e, func(context.Context, *dataPreviewOptions) error { return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.Execute(); err == nil || err.Error() != tc.wantErr {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.wantErr)
		}
	}
	e, _, _ := dataTestEnv(map[string]string{"SWEEP_DATA": "/d"})
	var got *dataPreviewOptions
	cmd := newDataPreviewCmd(e, func(_ context.Context, o *dataPreviewOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-o", "g.png", "--strength", "0.5", "--n", "3", "--preset", "cheap"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Out != "g.png" || got.Strength != 0.5 || got.Rows != 3 || got.Preset != "cheap" || got.DataDir != "/d" || got.Cols != 7 {
		t.Errorf("options = %+v", *got)
	}
}

// dataTestDir finds ../shared/data/cifar10 above the module root.
func dataTestDir(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "..", "shared", "data", "cifar10")
			if _, err := data.FindDir(dir); err != nil {
				t.Skipf("CIFAR-10 not available: %v", err)
			}
			return dir
		}
	}
	t.Skip("no go.mod found")
	return ""
}

func TestRunDataPreview(t *testing.T) {
	dir := dataTestDir(t)
	out := filepath.Join(t.TempDir(), "grid.png")
	cfgFile := filepath.Join(t.TempDir(), "aug.yaml")
	os.WriteFile(cfgFile, []byte("strength: 0.5\nrotation: 0\n"), 0o644)
	for _, cfg := range []string{"", cfgFile} {
		e, _, errb := dataTestEnv(nil)
		opts := &dataPreviewOptions{env: e, DataDir: dir, Out: out, Config: cfg, Preset: "classic", Strength: 1, Rows: 2, Cols: 2, Scale: 1}
		if err := runDataPreview(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() < 3*32 || b.Dy() < 2*32 || !strings.HasPrefix(errb.String(), "wrote "+out) {
			t.Errorf("image %v, status %q", b, errb.String())
		}
	}
	os.WriteFile(cfgFile, []byte("strength: 0.5\nflip: 2\n"), 0o644)
	e, _, _ := dataTestEnv(nil)
	err := runDataPreview(context.Background(), &dataPreviewOptions{env: e, DataDir: dir, Out: out, Config: cfgFile, Rows: 1, Cols: 1, Scale: 1})
	if err == nil || !strings.Contains(err.Error(), cfgFile+": augment: flip = 2") {
		t.Errorf("err = %v, want one naming the file and field", err)
	}
}

func TestRunDataFetch_HTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	e, _, _ := dataTestEnv(nil)
	err := runDataFetch(context.Background(), &dataFetchOptions{env: e, DataDir: t.TempDir(), URL: srv.URL, MD5: data.DefaultMD5})
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("err = %v, want the HTTP status", err)
	}
}
