package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The official binary archive and its published md5.
const (
	DefaultURL  = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	DefaultMD5  = "c32a1d4ab5d03f1284b67883e8d87530"
	archiveName = "cifar-10-binary.tar.gz"
)

// FetchOptions configures Fetch. Zero fields take the documented defaults.
type FetchOptions struct {
	// Dir receives the archive (as <archive>.part while incomplete) and the
	// unpacked cifar-10-batches-bin folder.
	Dir string
	URL string // DefaultURL
	MD5 string // DefaultMD5, lowercase hex
	// Force downloads even when Dir already holds complete data.
	Force  bool
	Client *http.Client // http.DefaultClient
	// Progress receives the progress bar: redrawn in place when IsTTY,
	// otherwise one line per 10%. Nil means silent.
	Progress io.Writer
	IsTTY    bool
	Now      func() time.Time // time.Now
	// Attempts is how many times a broken download is resumed (3).
	Attempts int
	// RetryDelay is the pause before a retry, multiplied by the attempt (1s).
	RetryDelay time.Duration
	// StallTimeout abandons an attempt that receives no data for this long,
	// so a dead connection is retried rather than waited on forever (60s).
	StallTimeout time.Duration
}

// Fetch downloads, checks and unpacks CIFAR-10 into opts.Dir and returns the
// directory holding the batch files. A partial download left by an earlier
// run or a broken connection is resumed with an HTTP Range request; servers
// that ignore Range are handled by starting over. A download whose md5 does
// not match is deleted. Fetch returns promptly when ctx is cancelled,
// keeping the partial file for the next run.
func Fetch(ctx context.Context, opts FetchOptions) (string, error) {
	opts = opts.withDefaults()
	if !opts.Force {
		if dir, err := FindDir(opts.Dir); err == nil && Verify(dir) == nil {
			opts.printf("fetch: CIFAR-10 already present in %s (use --force to download again)\n", dir)
			return dir, nil
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	part := filepath.Join(opts.Dir, archiveName+".part")
	// A complete archive left by a run stopped while unpacking needs no
	// request at all (a server that ignores Range would resend it all).
	if st, err := os.Stat(part); err != nil || st.Size() == 0 || checkMD5(part, opts.MD5) != nil {
		if err := opts.downloadWithRetries(ctx, part); err != nil {
			return "", err
		}
		if err := checkMD5(part, opts.MD5); err != nil {
			os.Remove(part)
			return "", err
		}
	}
	opts.printf("fetch: unpacking into %s\n", opts.Dir)
	if err := unpack(ctx, part, opts.Dir); err != nil {
		return "", err
	}
	if err := os.Remove(part); err != nil {
		return "", fmt.Errorf("remove archive: %w", err)
	}
	return FindDir(opts.Dir)
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.MD5 == "" {
		o.MD5 = DefaultMD5
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = time.Minute
	}
	return o
}

func (o FetchOptions) printf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format, args...)
	}
}

// Verify checks that dir holds all six batch files at their full size.
func Verify(dir string) error {
	names := []string{testFile}
	for i := 1; i <= TrainFiles; i++ {
		names = append(names, fmt.Sprintf("data_batch_%d.bin", i))
	}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return fmt.Errorf("verify data: %w", err)
		}
		if st.Size() != RecordsPerFile*recordSize {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrTruncated, filepath.Join(dir, n), st.Size(), RecordsPerFile*recordSize)
		}
	}
	return nil
}

// errPermanent marks download errors that retrying cannot fix.
type errPermanent struct{ error }

func (e errPermanent) Unwrap() error { return e.error }

func (o FetchOptions) downloadWithRetries(ctx context.Context, part string) error {
	var err error
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		if err = o.download(ctx, part); err == nil {
			return nil
		}
		var perm errPermanent
		if ctx.Err() != nil || errors.As(err, &perm) || attempt == o.Attempts {
			break
		}
		o.printf("fetch: %v; retrying (%d of %d)\n", err, attempt+1, o.Attempts)
		select {
		case <-time.After(time.Duration(attempt) * o.RetryDelay):
		case <-ctx.Done():
			return fmt.Errorf("download %s: %w", o.URL, ctx.Err())
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("download %s: %w", o.URL, ctx.Err())
	}
	return err
}

// download fetches the rest of the file into part, resuming from its size.
func (o FetchOptions) download(ctx context.Context, part string) error {
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return errPermanent{fmt.Errorf("open download: %w", err)}
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return errPermanent{fmt.Errorf("seek download: %w", err)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("download %s: no data for %v", o.URL, o.StallTimeout)
	watchdog := time.AfterFunc(o.StallTimeout, func() { cancel(stalled) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return errPermanent{fmt.Errorf("download %s: %w", o.URL, err)}
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := o.Client.Do(req)
	if errors.Is(context.Cause(ctx), stalled) {
		return stalled
	}
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	have, total, done, err := o.position(f, resp, have)
	if done || err != nil {
		return err
	}
	p := newProgress(o.Progress, o.IsTTY, o.Now, have, total)
	body := readerFunc(func(b []byte) (int, error) {
		watchdog.Reset(o.StallTimeout)
		return resp.Body.Read(b)
	})
	n, err := io.Copy(f, io.TeeReader(body, p))
	p.finish()
	if errors.Is(context.Cause(ctx), stalled) {
		return stalled
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", o.URL, err)
	}
	if total >= 0 && have+n != total {
		return fmt.Errorf("download %s: got %d of %d bytes: %w", o.URL, have+n, total, io.ErrUnexpectedEOF)
	}
	return f.Sync()
}

// position reads the response status and prepares f to receive the body:
// appended to what f has (206), or from the start (200, or a 416 that shows
// f is corrupt). It returns where writing starts, the archive's size (-1 if
// unknown), and done when f is already complete.
func (o FetchOptions) position(f *os.File, resp *http.Response, have int64) (start, total int64, done bool, err error) {
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		first, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || first != have {
			f.Truncate(0) // cannot trust what we have; the retry starts over
			return 0, 0, false, fmt.Errorf("download %s: Content-Range %q does not resume at byte %d",
				o.URL, resp.Header.Get("Content-Range"), have)
		}
		o.printf("fetch: resuming at %s\n", mib(have))
		return have, size, false, nil
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			o.printf("fetch: server ignored the Range request; starting over\n")
		}
		return 0, resp.ContentLength, false, restart(f)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		if _, size, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && size == have {
			return have, have, true, nil // the partial file is already complete
		}
		if err := restart(f); err != nil {
			return 0, 0, false, err
		}
		return 0, 0, false, fmt.Errorf("download %s: partial file of %s is larger than the archive", o.URL, mib(have))
	}
	err = fmt.Errorf("download %s: %s", o.URL, resp.Status)
	if resp.StatusCode < 500 {
		err = errPermanent{err}
	}
	return 0, 0, false, err
}

type readerFunc func([]byte) (int, error)

func (r readerFunc) Read(b []byte) (int, error) { return r(b) }

func restart(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return errPermanent{fmt.Errorf("truncate download: %w", err)}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return errPermanent{fmt.Errorf("seek download: %w", err)}
	}
	return nil
}

// parseContentRange reads "bytes start-end/size" or "bytes */size".
func parseContentRange(s string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	size, err := strconv.ParseInt(total, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if rng == "*" {
		return 0, size, true
	}
	first, _, _ := strings.Cut(rng, "-")
	start, err = strconv.ParseInt(first, 10, 64)
	return start, size, err == nil
}

func checkMD5(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash archive: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
		return fmt.Errorf("%w: %s has md5 %s, want %s (the download was deleted; run again)", ErrChecksum, path, got, want)
	}
	return nil
}

// unpack extracts the regular files and folders of a .tar.gz into dir. It
// rejects absolute paths, paths leaving dir and links rather than trusting
// the archive.
func unpack(ctx context.Context, archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", archive, err)
	}
	tr := tar.NewReader(gz)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("unpack %s: entry %q leaves the target folder", archive, h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeEntry(target, tr)
		default:
			return fmt.Errorf("unpack %s: entry %q has type %q; only files and folders are allowed",
				archive, h.Name, h.Typeflag)
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
	}
}

func writeEntry(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
