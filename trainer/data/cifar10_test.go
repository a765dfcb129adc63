package data

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// testDir returns the development copy of CIFAR-10: ../shared/data/cifar10
// relative to the module root, or $SWEEP_DATA. It skips the test if absent.
func testDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "..", "shared", "data", "cifar10")
			if _, err := FindDir(dir); err != nil {
				tb.Skipf("CIFAR-10 not found at %s (set %s): %v", dir, EnvDir, err)
			}
			return dir
		}
		if filepath.Dir(d) == d {
			tb.Skipf("no go.mod above %s", wd)
		}
	}
}

// loadSlice loads the first n training images, once per test binary per n.
var sliceCache = map[int]*Dataset{}

func loadSlice(tb testing.TB, n int) *Dataset {
	tb.Helper()
	if ds, ok := sliceCache[n]; ok {
		return ds
	}
	ds, err := LoadTrain(testDir(tb), n)
	if err != nil {
		tb.Fatal(err)
	}
	sliceCache[n] = ds
	return ds
}

func TestLoadTrain(t *testing.T) {
	dir := testDir(t)
	ds, err := LoadTrain(dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 1000 || len(ds.Pixels) != 1000*PixelsPerImage {
		t.Fatalf("got %d labels, %d bytes; want 1000, %d", ds.Len(), len(ds.Pixels), 1000*PixelsPerImage)
	}
	var counts [NumClasses]int
	for _, l := range ds.Labels {
		if l >= NumClasses {
			t.Fatalf("label %d out of range", l)
		}
		counts[l]++
	}
	for c, n := range counts {
		if n < 50 { // about 100 per class in any 1000-image slice
			t.Errorf("class %d has only %d images in the first 1000", c, n)
		}
	}
	if ds.Classes[0] != "airplane" || ds.Classes[9] != "truck" || len(ds.Classes) != NumClasses {
		t.Errorf("classes = %q", ds.Classes)
	}

	// The first record, read independently from the raw file.
	f, err := os.ReadFile(filepath.Join(dir, "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Labels[0] != f[0] || !bytes.Equal(ds.Image(0), f[1:recordSize]) {
		t.Errorf("record 0 differs from the file's first %d bytes", recordSize)
	}
	last := 999 * recordSize
	if ds.Labels[999] != f[last] || !bytes.Equal(ds.Image(999), f[last+1:last+recordSize]) {
		t.Errorf("record 999 differs from the file")
	}
	var sum uint64
	for _, v := range f[1:recordSize] {
		sum += uint64(v)
	}
	var got uint64
	for _, v := range ds.Image(0) {
		got += uint64(v)
	}
	if got != sum || sum == 0 {
		t.Errorf("pixel sum of record 0 = %d, file says %d", got, sum)
	}
}

func TestLoadTrain_SpansFiles(t *testing.T) {
	ds, err := LoadTrain(testDir(t), RecordsPerFile+10)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(filepath.Join(testDir(t), "data_batch_2.bin"))
	if err != nil {
		t.Fatal(err)
	}
	i := RecordsPerFile + 3
	off := 3 * recordSize
	if ds.Labels[i] != f[off] || !bytes.Equal(ds.Image(i), f[off+1:off+recordSize]) {
		t.Errorf("image %d does not match data_batch_2.bin record 3", i)
	}
}

func TestLoadTest(t *testing.T) {
	ds, err := LoadTest(testDir(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(filepath.Join(testDir(t), "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 100 || ds.Labels[0] != f[0] || !bytes.Equal(ds.Image(0), f[1:recordSize]) {
		t.Errorf("test record 0 differs from test_batch.bin")
	}
}

// writeFakeDir writes a data directory whose batch files are size bytes
// long, every record labelled label.
func writeFakeDir(t *testing.T, dir string, size int, label byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, RecordsPerFile*recordSize)
	for i := 0; i < len(rec); i += recordSize {
		rec[i] = label
	}
	for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", testFile} {
		if err := os.WriteFile(filepath.Join(dir, name), rec[:size], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadTrain_Errors(t *testing.T) {
	full := RecordsPerFile * recordSize
	t.Run("Missing", func(t *testing.T) {
		_, err := LoadTrain(t.TempDir(), 10)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("Truncated", func(t *testing.T) {
		dir := t.TempDir()
		writeFakeDir(t, dir, full-5, 1)
		_, err := LoadTrain(dir, 10)
		if !errors.Is(err, ErrTruncated) || !bytes.Contains([]byte(err.Error()), []byte("data_batch_1.bin")) {
			t.Fatalf("err = %v, want ErrTruncated naming data_batch_1.bin", err)
		}
	})
	t.Run("BadLabel", func(t *testing.T) {
		dir := t.TempDir()
		writeFakeDir(t, dir, full, 12)
		_, err := LoadTrain(dir, 10)
		if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("record 0 has label 12")) {
			t.Fatalf("err = %v, want ErrCorrupt for label 12", err)
		}
	})
	t.Run("BadMeta", func(t *testing.T) {
		dir := t.TempDir()
		writeFakeDir(t, dir, full, 1)
		os.WriteFile(filepath.Join(dir, metaFile), []byte("a\nb\n"), 0o644)
		_, err := LoadTrain(dir, 10)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt for 2 class names", err)
		}
	})
	t.Run("NestedDir", func(t *testing.T) {
		dir := t.TempDir()
		writeFakeDir(t, filepath.Join(dir, BatchesDir), full, 7)
		ds, err := LoadTest(dir, 10)
		if err != nil || ds.Labels[9] != 7 || ds.Classes[7] != "horse" {
			t.Fatalf("LoadTest(dir with %s/) = %v, %v", BatchesDir, ds, err)
		}
	})
}

func TestReadRecords_Truncated(t *testing.T) {
	raw := make([]byte, recordSize+100)
	err := ReadRecords(bytes.NewReader(raw), "x.bin", make([]byte, 2*PixelsPerImage), make([]uint8, 2))
	if !errors.Is(err, ErrTruncated) || err.Error() != fmt.Sprintf("%v: x.bin: ends inside record 1", ErrTruncated) {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveDir(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvDir {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct{ flag, env, want string }{
		{"/a", "/b", "/a"},
		{"", "/b", "/b"},
		{"", "", DefaultDir},
	} {
		if got := ResolveDir(tc.flag, env(tc.env)); got != tc.want {
			t.Errorf("ResolveDir(%q) with %s=%q = %q, want %q", tc.flag, EnvDir, tc.env, got, tc.want)
		}
	}
}
