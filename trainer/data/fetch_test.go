package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type tarEntry struct {
	name string
	body []byte
	typ  byte
}

func makeTarGz(tb testing.TB, entries []tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ}
		if e.typ == tar.TypeSymlink {
			h.Linkname, h.Size = "/etc/passwd", 0
		}
		if e.typ == tar.TypeDir {
			h.Mode, h.Size = 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(e.body)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// smallArchive builds a CIFAR-shaped archive with 20 records per file of
// pseudo-random bytes (incompressible, so the archive is ~370 KB).
func smallArchive(tb testing.TB) (archive []byte, files map[string][]byte) {
	tb.Helper()
	r := NewRand(99)
	files = map[string][]byte{BatchesDir + "/batches.meta.txt": []byte(strings.Join(defaultClasses[:], "\n") + "\n")}
	for _, n := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", testFile} {
		b := make([]byte, 20*recordSize)
		for i := range b {
			b[i] = byte(r.Uint64())
		}
		for i := 0; i < len(b); i += recordSize {
			b[i] %= NumClasses
		}
		files[BatchesDir+"/"+n] = b
	}
	entries := []tarEntry{{name: BatchesDir + "/", typ: tar.TypeDir}}
	for name, body := range files {
		entries = append(entries, tarEntry{name: name, body: body, typ: tar.TypeReg})
	}
	return makeTarGz(tb, entries), files
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// archiveServer serves archive. cut(n) decides whether the n-th request
// (from 0) is broken off halfway through its body; ignoreRange makes it
// answer Range requests with the whole file (200), as some servers do.
type archiveServer struct {
	archive     []byte
	cut         func(n int) bool
	ignoreRange bool
	mu          sync.Mutex
	ranges      []string // the Range header of each request
}

func (s *archiveServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.ranges)
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	if s.cut != nil && s.cut(n) {
		// Send half of what was asked for, then drop the connection.
		start := 0
		if rng := r.Header.Get("Range"); rng != "" && !s.ignoreRange {
			fmt.Sscanf(rng, "bytes=%d-", &start)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(s.archive)-1, len(s.archive)))
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(s.archive)-start))
		if start > 0 {
			w.WriteHeader(http.StatusPartialContent)
		}
		w.Write(s.archive[start : start+(len(s.archive)-start)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	if s.ignoreRange {
		w.Header().Set("Content-Length", fmt.Sprint(len(s.archive)))
		w.Write(s.archive)
		return
	}
	http.ServeContent(w, r, archiveName, time.Time{}, bytes.NewReader(s.archive))
}

func checkUnpacked(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: unpacked content differs (err %v)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, archiveName+".part")); !os.IsNotExist(err) {
		t.Errorf("archive left behind after unpacking: %v", err)
	}
	ds, err := LoadTest(dir, 20)
	if err == nil || !errors.Is(err, ErrTruncated) || ds != nil {
		// 20-record files are deliberately short: the reader must say so.
		t.Errorf("LoadTest on the small archive: %v, want ErrTruncated", err)
	}
}

func TestFetch(t *testing.T) {
	archive, files := smallArchive(t)
	srv := httptest.NewServer(&archiveServer{archive: archive})
	defer srv.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	got, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive), Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, BatchesDir) {
		t.Errorf("Fetch returned %q, want %q", got, filepath.Join(dir, BatchesDir))
	}
	checkUnpacked(t, dir, files)
	if !strings.Contains(out.String(), "fetch: 100%") || strings.Contains(out.String(), "\r") {
		t.Errorf("non-TTY progress output:\n%s", out.String())
	}
}

func TestFetch_ResumeAcrossRuns(t *testing.T) {
	archive, files := smallArchive(t)
	s := &archiveServer{archive: archive, cut: func(n int) bool { return n == 0 }}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	opts := FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive), Attempts: 1}
	if _, err := Fetch(context.Background(), opts); err == nil {
		t.Fatal("Fetch succeeded although the connection broke")
	}
	st, err := os.Stat(filepath.Join(dir, archiveName+".part"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != int64(len(archive)/2) {
		t.Fatalf("partial file has %d bytes, want %d", st.Size(), len(archive)/2)
	}
	var out bytes.Buffer
	opts.Progress, opts.IsTTY = &out, true
	if _, err := Fetch(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", len(archive)/2); len(s.ranges) != 2 || s.ranges[1] != want {
		t.Errorf("Range headers %q, want second = %q", s.ranges, want)
	}
	checkUnpacked(t, dir, files)
	if o := out.String(); !strings.Contains(o, "resuming at") || !strings.Contains(o, "\r\033[K[") || !strings.Contains(o, "100%") {
		t.Errorf("TTY progress output: %q", o)
	}
}

func TestFetch_RetryWithinRun(t *testing.T) {
	archive, files := smallArchive(t)
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("IgnoreRange=%v", ignore), func(t *testing.T) {
			s := &archiveServer{archive: archive, cut: func(n int) bool { return n < 2 }, ignoreRange: ignore}
			srv := httptest.NewServer(s)
			defer srv.Close()
			dir := t.TempDir()
			var out bytes.Buffer
			_, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive),
				RetryDelay: time.Millisecond, Progress: &out})
			if err != nil {
				t.Fatal(err)
			}
			checkUnpacked(t, dir, files)
			half := len(archive) / 2
			want := []string{"", fmt.Sprintf("bytes=%d-", half), fmt.Sprintf("bytes=%d-", half+(len(archive)-half)/2)}
			if ignore {
				want[2] = want[1] // the second try restarted from 0 and broke at half again
			}
			if !slices.Equal(s.ranges, want) {
				t.Errorf("requests' Range headers = %q, want %q", s.ranges, want)
			}
			if ignore != strings.Contains(out.String(), "ignored the Range") {
				t.Errorf("output:\n%s", out.String())
			}
		})
	}
}

func TestFetch_BadMD5(t *testing.T) {
	archive, _ := smallArchive(t)
	srv := httptest.NewServer(&archiveServer{archive: archive})
	defer srv.Close()
	dir := t.TempDir()
	_, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: DefaultMD5})
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), md5hex(archive)) {
		t.Fatalf("err = %v, want ErrChecksum naming the md5", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d entries in the data dir after a bad checksum", len(entries))
	}
}

func TestFetch_RejectsUnsafeEntries(t *testing.T) {
	for name, e := range map[string]tarEntry{
		"DotDot":   {name: "../evil.txt", body: []byte("x"), typ: tar.TypeReg},
		"Absolute": {name: "/tmp/evil.txt", body: []byte("x"), typ: tar.TypeReg},
		"Symlink":  {name: BatchesDir + "/link", typ: tar.TypeSymlink},
	} {
		t.Run(name, func(t *testing.T) {
			archive := makeTarGz(t, []tarEntry{e})
			srv := httptest.NewServer(&archiveServer{archive: archive})
			defer srv.Close()
			parent := t.TempDir()
			dir := filepath.Join(parent, "data")
			_, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive)})
			if err == nil || !strings.Contains(err.Error(), e.name) {
				t.Fatalf("err = %v, want a rejection naming %q", err, e.name)
			}
			if _, err := os.Stat(filepath.Join(parent, "evil.txt")); err == nil {
				t.Error("entry written outside the data dir")
			}
		})
	}
}

func TestFetch_Cancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	dir := t.TempDir()
	start := time.Now()
	_, err := Fetch(ctx, FetchOptions{Dir: dir, URL: srv.URL})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Fetch took %v to notice cancellation", d)
	}
	if st, err := os.Stat(filepath.Join(dir, archiveName+".part")); err != nil || st.Size() != 1000 {
		t.Errorf("partial file not kept for resuming: %v", err)
	}
}

func TestFetch_AlreadyPresent(t *testing.T) {
	s := &archiveServer{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	writeFakeDir(t, filepath.Join(dir, BatchesDir), RecordsPerFile*recordSize, 1)
	var out bytes.Buffer
	if _, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, Progress: &out}); err != nil {
		t.Fatal(err)
	}
	if len(s.ranges) != 0 || !strings.Contains(out.String(), "already present") {
		t.Errorf("%d requests, output %q; want none and a note", len(s.ranges), out.String())
	}
}

func TestFetch_HTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Fetch(context.Background(), FetchOptions{Dir: t.TempDir(), URL: srv.URL, RetryDelay: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("err = %v, want the HTTP status", err)
	}
}

func TestFetch_CompletePartialFile(t *testing.T) {
	archive, files := smallArchive(t)
	s := &archiveServer{archive: archive, ignoreRange: true}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	// A run killed after downloading everything but before unpacking.
	if err := os.WriteFile(filepath.Join(dir, archiveName+".part"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive)}); err != nil {
		t.Fatal(err)
	}
	if len(s.ranges) != 0 {
		t.Errorf("%d requests for an archive already complete on disk", len(s.ranges))
	}
	checkUnpacked(t, dir, files)
}

func TestFetch_RangeNotSatisfiable(t *testing.T) {
	archive, _ := smallArchive(t)
	s := &archiveServer{archive: archive}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	// A complete download whose md5 is not the one asked for at first:
	// the 416 answer to its Range request shows it is whole.
	part := filepath.Join(dir, archiveName+".part")
	os.WriteFile(part, archive, 0o644)
	err := FetchOptions{URL: srv.URL}.withDefaults().download(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bytes=%d-", len(archive)); len(s.ranges) != 1 || s.ranges[0] != want {
		t.Errorf("Range headers %q, want one %q answered by 416", s.ranges, want)
	}
	if got, _ := os.ReadFile(part); !bytes.Equal(got, archive) {
		t.Error("416 changed the complete file")
	}
}

func TestFetch_Stall(t *testing.T) {
	archive, files := smallArchive(t)
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		first := requests == 1
		mu.Unlock()
		if first { // send a third, then go silent without closing
			w.Header().Set("Content-Length", fmt.Sprint(len(archive)))
			w.Write(archive[:len(archive)/3])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		http.ServeContent(w, r, archiveName, time.Time{}, bytes.NewReader(archive))
	}))
	defer srv.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	_, err := Fetch(context.Background(), FetchOptions{Dir: dir, URL: srv.URL, MD5: md5hex(archive),
		StallTimeout: 200 * time.Millisecond, RetryDelay: time.Millisecond, Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	checkUnpacked(t, dir, files)
	if !strings.Contains(out.String(), "no data for 200ms; retrying") || !strings.Contains(out.String(), "resuming at") {
		t.Errorf("output:\n%s", out.String())
	}
}
