package sweep

import (
	"fmt"
	"os"
)

// ReadJournalFile returns the pending results of a journal file, one
// line each, for tests.
func ReadJournalFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := readJournal(f)
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("trial %d %s %g (%d values)", e.Number, e.State, float64(e.Value), len(e.Values)))
	}
	return out, err
}

// Measured exposes measured to tests.
var Measured = measured
