// Package data reads CIFAR-10, splits it, augments it and feeds it to the
// trainer in shuffled, normalized mini-batches prepared ahead of time.
//
// The package works on the official binary version (cifar-10-batches-bin:
// data_batch_1..5.bin, test_batch.bin, batches.meta.txt). Images stay in
// memory as the file's bytes (N×3×32×32, R, G and B planes) and become
// float32 only per sample, inside the loader's workers, so the training set
// costs 150 MiB rather than 600.
//
// The data directory is the --data-dir flag if given, else $SWEEP_DATA, else
// data/cifar10 ([ResolveDir]); it may hold the files directly or inside
// cifar-10-batches-bin/ ([FindDir]). [Fetch] downloads it. The validation
// set is held out of the training set by [NewSplit] (5000 images,
// stratified, by default). [Classic] documents how the augmentation
// strength maps to each transform, and [Iter.Next] how long a Batch lives.
//
// It does not know about models, devices or studies: a Batch is plain NCHW
// float32 memory that the trainer copies where it wants. It does not decide
// what the test set is for either, but the split helpers only ever carve the
// validation set out of the training set, so tuning never sees test images.
package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Geometry of a CIFAR-10 image and of the binary files.
const (
	Channels       = 3
	Height         = 32
	Width          = 32
	PixelsPerImage = Channels * Height * Width // 3072 bytes, R, G, B planes
	recordSize     = 1 + PixelsPerImage        // label byte, then the pixels
	RecordsPerFile = 10000
	NumClasses     = 10
	TrainFiles     = 5
)

// Directory resolution: the --data-dir flag wins, then $SWEEP_DATA, then
// DefaultDir (relative to the working directory).
const (
	DefaultDir = "data/cifar10"
	EnvDir     = "SWEEP_DATA"
	// BatchesDir is the folder the official archive unpacks into; a data
	// directory may hold the files directly or inside this folder.
	BatchesDir = "cifar-10-batches-bin"
	metaFile   = "batches.meta.txt"
	testFile   = "test_batch.bin"
)

// Errors returned by the reader and Fetch, wrapped with the file name.
var (
	ErrNotFound  = errors.New("data: CIFAR-10 files not found")
	ErrTruncated = errors.New("data: file truncated")
	ErrCorrupt   = errors.New("data: file corrupt")
	// ErrChecksum means a downloaded archive does not have the expected md5.
	ErrChecksum = errors.New("data: checksum mismatch")
)

// defaultClasses are the label names used when batches.meta.txt is absent.
var defaultClasses = [NumClasses]string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// Dataset is a set of CIFAR-10 images held as the file's bytes.
// A Dataset is read-only after loading and safe for concurrent use.
type Dataset struct {
	// Pixels holds Len() images of PixelsPerImage bytes each, every image
	// as three 32×32 row-major planes (R, then G, then B), values 0..255.
	Pixels []byte
	// Labels holds one class index (0..NumClasses-1) per image.
	Labels []uint8
	// Classes names the labels, from batches.meta.txt.
	Classes []string
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// Image returns image i's bytes (a view into Pixels, not a copy).
func (d *Dataset) Image(i int) []byte {
	return d.Pixels[i*PixelsPerImage : (i+1)*PixelsPerImage]
}

// ResolveDir picks the data directory: flag if non-empty, else the
// SWEEP_DATA variable read through getenv, else DefaultDir.
func ResolveDir(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if getenv != nil {
		if v := getenv(EnvDir); v != "" {
			return v
		}
	}
	return DefaultDir
}

// FindDir returns the directory that actually holds the batch files: dir
// itself, or dir/cifar-10-batches-bin as unpacked from the official archive.
func FindDir(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, BatchesDir)} {
		if _, err := os.Stat(filepath.Join(d, testFile)); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w in %s (nor in %s/%s); run `sweep data fetch --data-dir %s` or set --data-dir/%s",
		ErrNotFound, dir, dir, BatchesDir, dir, EnvDir)
}

// LoadTrain reads the 50,000 training images (data_batch_1..5.bin) from
// dir, or only the first limit images when 0 < limit < 50,000, reading no
// more files than needed.
func LoadTrain(dir string, limit int) (*Dataset, error) {
	names := make([]string, TrainFiles)
	for i := range names {
		names[i] = fmt.Sprintf("data_batch_%d.bin", i+1)
	}
	return load(dir, names, limit)
}

// LoadTest reads the 10,000 test images (test_batch.bin), or the first
// limit of them. Test images are for reporting only, never for tuning.
func LoadTest(dir string, limit int) (*Dataset, error) {
	return load(dir, []string{testFile}, limit)
}

func load(dir string, names []string, limit int) (*Dataset, error) {
	dir, err := FindDir(dir)
	if err != nil {
		return nil, err
	}
	classes, err := readClasses(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	total := len(names) * RecordsPerFile
	if limit <= 0 || limit > total {
		limit = total
	}
	ds := &Dataset{
		Pixels:  make([]byte, limit*PixelsPerImage),
		Labels:  make([]uint8, limit),
		Classes: classes,
	}
	for i, name := range names {
		first := i * RecordsPerFile
		if first >= limit {
			break
		}
		n := min(RecordsPerFile, limit-first)
		path := filepath.Join(dir, name)
		if err := readBatchFile(path, ds.Pixels[first*PixelsPerImage:], ds.Labels[first:first+n]); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// readBatchFile checks that path is a complete batch file and reads its
// first len(labels) records into pixels and labels.
func readBatchFile(path string, pixels []byte, labels []uint8) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open batch: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat batch: %w", err)
	}
	if want := int64(RecordsPerFile * recordSize); st.Size() != want {
		if st.Size() < want {
			return fmt.Errorf("%w: %s is %d bytes, want %d (%d records of %d bytes); re-run `sweep data fetch`",
				ErrTruncated, path, st.Size(), want, RecordsPerFile, recordSize)
		}
		return fmt.Errorf("%w: %s is %d bytes, want %d (%d records of %d bytes)",
			ErrCorrupt, path, st.Size(), want, RecordsPerFile, recordSize)
	}
	return ReadRecords(bufio.NewReaderSize(f, 1<<20), path, pixels, labels)
}

// ReadRecords reads len(labels) records of the binary format from r into
// labels and pixels (len(labels)*PixelsPerImage bytes). name is used in
// errors only. A short read is ErrTruncated, a label outside 0..9 ErrCorrupt.
func ReadRecords(r io.Reader, name string, pixels []byte, labels []uint8) error {
	var label [1]byte
	for i := range labels {
		if _, err := io.ReadFull(r, label[:]); err != nil {
			return recordErr(name, i, err)
		}
		if label[0] >= NumClasses {
			return fmt.Errorf("%w: %s: record %d has label %d, want 0..%d",
				ErrCorrupt, name, i, label[0], NumClasses-1)
		}
		labels[i] = label[0]
		if _, err := io.ReadFull(r, pixels[i*PixelsPerImage:(i+1)*PixelsPerImage]); err != nil {
			return recordErr(name, i, err)
		}
	}
	return nil
}

func recordErr(name string, i int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: ends inside record %d", ErrTruncated, name, i)
	}
	return fmt.Errorf("read %s record %d: %w", name, i, err)
}

// readClasses reads batches.meta.txt: one class name per line, blank lines
// ignored. A missing file gives the standard names; a file with the wrong
// number of names is an error.
func readClasses(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return defaultClasses[:], nil
	}
	if err != nil {
		return nil, fmt.Errorf("read class names: %w", err)
	}
	var names []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != NumClasses {
		return nil, fmt.Errorf("%w: %s: has %d class names, want %d", ErrCorrupt, path, len(names), NumClasses)
	}
	return names, nil
}
