package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sweep/internal/pgtest"
	"sweep/sweep/postgres"
	"sweep/trainer/data"
	"sweep/trainer/engine/cuda"
	"sweep/trainer/engine/cuda/driver"
)

func TestNewDoctorCmd(t *testing.T) {
	for _, c := range []struct {
		args    []string
		verbose bool
		err     string
	}{
		{nil, false, ""},
		{[]string{"--verbose"}, true, ""},
		{[]string{"-v"}, true, ""},
		{[]string{"extra"}, false, `unknown command "extra" for "doctor"`},
		{[]string{"--db", "d", "--pg-dir", "p", "--data-dir", "x"}, false, ""},
	} {
		var got *doctorOptions
		cmd := newDoctorCmd(&env{}, func(_ context.Context, o *doctorOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v: err = %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || got.Verbose != c.verbose {
			t.Errorf("%v: err %v, verbose %v", c.args, err, got != nil && got.Verbose)
		}
		if len(c.args) == 6 && (got.DB != "d" || got.PGDir != "p" || got.DataDir != "x") {
			t.Errorf("%v: parsed %+v", c.args, got)
		}
	}
}

func doctorEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	out, errb := &bytes.Buffer{}, &bytes.Buffer{}
	return &env{Out: out, Err: errb, Now: func() time.Time { return time.Unix(0, 0) },
		Getenv: func(k string) string {
			if k == "SWEEP_BLAS" {
				return "go" // the same line with or without OpenBLAS installed
			}
			return ""
		}}, out, errb
}

func TestRunDoctor(t *testing.T) {
	t.Run("WithGPU", func(t *testing.T) {
		e, out, _ := doctorEnv()
		opts := &doctorOptions{env: e, PGDir: t.TempDir(), DataDir: fakeCIFAR(t), probe: func(func(string) string) cuda.Report {
			return cuda.Report{
				Libraries: []cuda.LibStatus{
					{Name: "CUDA driver", Version: "CUDA 12.4", Path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1", Where: "dynamic loader"},
					{Name: "cuBLAS", Version: "12.4.5", Path: "/usr/local/cuda/lib64/libcublas.so.12", Where: "CUDA toolkit"},
					{Name: "cuDNN", Err: errors.New("dynlib: cuDNN not found (libcudnn.so.9, libcudnn.so); searched:\n  ...")},
					{Name: "NVRTC", Version: "12.4", Path: "/usr/local/cuda/lib64/libnvrtc.so.12", Where: "CUDA toolkit"},
				},
				Devices: []cuda.DeviceStatus{{DeviceInfo: driver.DeviceInfo{Ordinal: 0, Name: "NVIDIA H100 80GB HBM3",
					Major: 9, Minor: 0, SMs: 132, TotalBytes: 80 << 30}, FreeBytes: 79 << 30}},
			}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"cpu      ok       cpu/go, ",
			"cuda     ok       1 GPU(s)\n",
			"cudnn    missing  convolutions will run as im2col + cuBLAS, several times slower; install cuDNN 9",
			"cuDNN        -          dynlib: cuDNN not found (libcudnn.so.9, libcudnn.so)\n",
			"cuBLAS       12.4.5     /usr/local/cuda/lib64/libcublas.so.12 (CUDA toolkit)",
			"0    NVIDIA H100 80GB HBM3  sm_90, 132 SMs  79.0 / 80.0 GiB",
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("WithCuDNN", func(t *testing.T) {
		e, out, errb := doctorEnv()
		opts := &doctorOptions{env: e, PGDir: t.TempDir(), DataDir: fakeCIFAR(t), probe: func(func(string) string) cuda.Report {
			return cuda.Report{
				Libraries: []cuda.LibStatus{{Name: "CUDA driver", Version: "CUDA 13.0"}, {Name: "cuBLAS", Version: "13.0.0"},
					{Name: "cuDNN", Version: "9.13.0", Path: "/v/nvidia/cudnn/lib/libcudnn.so.9", Where: "pip wheel"}, {Name: "NVRTC", Version: "13.0"}},
				Devices: []cuda.DeviceStatus{{DeviceInfo: driver.DeviceInfo{Name: "GPU"}}},
			}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "cudnn ") || errb.Len() != 0 || !strings.Contains(out.String(), "9.13.0") {
			t.Errorf("cuDNN present, output:\n%s\nstderr: %s", out, errb)
		}
	})
	t.Run("NoDriver", func(t *testing.T) {
		e, out, errb := doctorEnv()
		opts := &doctorOptions{env: e, PGDir: t.TempDir(), DataDir: fakeCIFAR(t), probe: func(func(string) string) cuda.Report {
			err := errors.New("dynlib: CUDA driver not found (libcuda.so.1, libcuda.so); searched:\n  dynamic loader   libcuda.so.1: no such file")
			return cuda.Report{Err: err, Libraries: []cuda.LibStatus{{Name: "CUDA driver", Err: err}}}
		}}
		if err := runDoctor(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"cuda     unavailable  dynlib: CUDA driver not found (libcuda.so.1, libcuda.so)\n", "none found"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		if !strings.Contains(errb.String(), "--verbose") {
			t.Errorf("no hint about --verbose on stderr: %q", errb)
		}
	})
}

// fakeCIFAR makes a directory with the six CIFAR-10 batch files at their
// full size (sparse, so nothing is written), which is what doctor checks.
func fakeCIFAR(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	names := []string{"test_batch.bin"}
	for i := 1; i <= data.TrainFiles; i++ {
		names = append(names, fmt.Sprintf("data_batch_%d.bin", i))
	}
	for _, n := range names {
		f, err := os.Create(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(data.RecordsPerFile * (1 + data.PixelsPerImage)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// doctorLine matches the setup check line name with status and a detail
// starting with detail.
func doctorLine(out, name, status, detail string) bool {
	return regexp.MustCompile(`(?m)^` + name + ` +` + regexp.QuoteMeta(status) + ` +` + regexp.QuoteMeta(detail)).MatchString(out)
}

// TestRunDoctor_Setup runs sweep doctor's PostgreSQL, schema and data
// checks against real databases, an unreachable one and a missing cluster.
func TestRunDoctor_Setup(t *testing.T) {
	ctx := context.Background()
	cifar := fakeCIFAR(t)
	want, err := postgres.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Migrated", func(t *testing.T) {
		dsn := startStudy(t, smallStudy)
		e, out, errOut, _ := newTestEnv(false)
		if code := run(ctx, e, []string{"doctor", "--db", dsn, "--data-dir", cifar}); code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		for _, l := range [][3]string{
			{"postgres", "ok", "using the database from --db (no local server needed)"},
			{"database", "ok", "connected to " + postgres.Redact(dsn, dsn) + " (from --db), PostgreSQL "},
			{"schema", "ok", fmt.Sprintf("%d of %d migrations applied\n", want, want)},
			{"data", "ok", "CIFAR-10 in " + cifar + "\n"},
		} {
			if !doctorLine(out.String(), l[0], l[1], l[2]) {
				t.Errorf("no line %q:\n%s", l, out)
			}
		}
	})
	t.Run("Fresh", func(t *testing.T) {
		dsn := pgtest.DSN(t) // doctor must not migrate it
		e, out, errOut, _ := newTestEnv(false)
		if code := run(ctx, e, []string{"doctor", "--db", dsn, "--data-dir", cifar}); code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		if !doctorLine(out.String(), "schema", "ok", fmt.Sprintf("sweep's schema is not applied yet (0 of %d migrations)", want)) {
			t.Errorf("schema line:\n%s", out)
		}
		assertNoStudies(t, dsn)
	})
	t.Run("Unreachable", func(t *testing.T) {
		e, out, errOut, _ := newTestEnv(false)
		dsn := "postgres://u:s3cretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"
		if code := run(ctx, e, []string{"doctor", "--db", dsn, "--data-dir", cifar}); code != exitRuntime {
			t.Fatalf("exit %d, want 1: %s%s", code, out, errOut)
		}
		if !doctorLine(out.String(), "database", "FAIL", "open database from --db (postgres://u:xxxxx@127.0.0.1:1/db?") ||
			!doctorLine(out.String(), "schema", "-", "not connected") || !strings.Contains(out.String(), "sweep doctor checks the connection") {
			t.Errorf("output:\n%s", out)
		}
		if strings.Contains(out.String()+errOut.String(), "s3cretpw") {
			t.Errorf("doctor shows the password:\n%s%s", out, errOut)
		}
		if !strings.HasSuffix(errOut.String(), "sweep: doctor: 1 check(s) failed\n") {
			t.Errorf("stderr: %q", errOut)
		}
	})
	t.Run("NoClusterNoData", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pg")
		empty := t.TempDir()
		e, out, errOut, _ := newTestEnv(false)
		if code := run(ctx, e, []string{"doctor", "--pg-dir", dir, "--data-dir", empty}); code != exitRuntime {
			t.Fatalf("exit %d, want 1: %s%s", code, out, errOut)
		}
		for _, l := range [][3]string{
			{"postgres", "ok", "PostgreSQL "},
			{"cluster", "ok", "no private cluster at " + dir + " yet; sweep start or sweep db up creates it"},
			{"database", "-", "no database to connect to"},
			{"data", "FAIL", "data: CIFAR-10 files not found in " + empty},
		} {
			if !doctorLine(out.String(), l[0], l[1], l[2]) {
				t.Errorf("no line %q:\n%s", l, out)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("doctor created %s (%v)", dir, err)
		}
	})
}
