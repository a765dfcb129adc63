package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/c-bata/goptuna"
)

// journal is one worker process's local record of trial results the
// database has not confirmed yet. A slot appends the result (with the
// trial's reports still buffered in memory) and fsyncs it before it asks
// the database, and appends a "done" line once the database has it (or
// has kept it as a late result). The file is flock'ed while its worker
// lives; a worker started later on the same host finds journals nobody
// holds and replays their unfinished entries (Worker.replayOrphans), so a
// result outlives both a database outage and the worker process.
//
// A journal is safe for concurrent use by the slots of one worker.
type journal struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	pending map[int]bool // trial IDs with a result and no done line yet
}

// journalEntry is one line of a journal: a result, or done for a trial.
type journalEntry struct {
	TrialID int               `json:"trial_id"`
	Done    bool              `json:"done,omitempty"`
	Number  int               `json:"number"`
	State   string            `json:"state,omitempty"` // COMPLETE, PRUNED or FAIL
	Value   jsonFloat         `json:"value"`
	Reason  string            `json:"reason,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`   // the objective's, stored as user attrs
	Values  []journalValue    `json:"values,omitempty"`  // reports not yet in the database, in order
	Metrics []journalMetric   `json:"metrics,omitempty"` // metric rows not yet in the database, in order
	// Objectives and Constraints are a multi-objective or constrained
	// trial's values (see ValuesRecorder); absent otherwise.
	Objectives  []jsonFloat `json:"objectives,omitempty"`
	Constraints []jsonFloat `json:"constraints,omitempty"`
}

type journalValue struct {
	Step  int       `json:"step"`
	Value jsonFloat `json:"value"`
}

type journalMetric struct {
	Step    int                  `json:"step"`
	Metrics map[string]jsonFloat `json:"metrics"`
}

// jsonFloat is a float64 that survives JSON as a string, NaN and ±Inf
// included (objectives report NaN for a diverged step).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatFloat(float64(f), 'g', -1, 64))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	*f = jsonFloat(v)
	return err
}

// state returns the entry's goptuna state.
func (e journalEntry) state() goptuna.TrialState {
	switch e.State {
	case "COMPLETE":
		return goptuna.TrialStateComplete
	case "PRUNED":
		return goptuna.TrialStatePruned
	}
	return goptuna.TrialStateFail
}

// StudyRunDir is the directory a study's local files (the workers'
// result journals) live in under base: the study name made safe for a
// path, plus a hash of the exact name so that two names never share it.
func StudyRunDir(base, study string) string {
	return filepath.Join(base, fileSafe(study, 64)+"-"+fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(study))))
}

// fileSafe keeps letters, digits, '.', '-' and '_' of s (others become
// '_'), at most n bytes.
func fileSafe(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return strings.TrimLeft(b.String(), ".")
}

// journalName is the file name of a worker's journal: host first, so a
// replaying worker can pick its own host's journals.
func journalName(host, workerID string) string {
	return fileSafe(host, 64) + "@" + fileSafe(workerID, 128) + ".journal"
}

// openJournal creates and locks the journal of workerID in dir.
func openJournal(dir, host, workerID string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create journal directory: %w", err)
	}
	path := filepath.Join(dir, journalName(host, workerID))
	// The file is created and locked under a name findOrphans ignores, then
	// renamed (the lock stays with the file): created in place, another
	// worker starting at the same moment could take the new, still
	// unlocked journal for an orphan's and lock it first.
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock journal %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return &journal{f: f, path: path, pending: map[int]bool{}}, nil
}

// add appends e and fsyncs it.
func (j *journal) add(e journalEntry) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.append(e); err != nil {
		return err
	}
	j.pending[e.TrialID] = true
	return nil
}

// done records that trialID's result is in the database. When no result
// is pending any more the file is emptied, so it never grows past the
// results in flight.
func (j *journal) done(trialID int) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.pending[trialID] {
		return nil
	}
	delete(j.pending, trialID)
	if len(j.pending) == 0 {
		if err := j.f.Truncate(0); err != nil {
			return fmt.Errorf("truncate journal: %w", err)
		}
		return j.f.Sync()
	}
	return j.append(journalEntry{TrialID: trialID, Done: true})
}

// append writes one line and fsyncs. j.mu held.
func (j *journal) append(e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode journal entry: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}

// close removes the journal when nothing is pending, else keeps it for a
// later worker to replay, and releases the lock.
func (j *journal) close() (kept int, err error) {
	if j == nil {
		return 0, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	kept = len(j.pending)
	if kept == 0 {
		err = os.Remove(j.path)
	}
	return kept, errors.Join(err, j.f.Close())
}

// orphan is a journal whose worker is gone, locked by the replaying one.
type orphan struct {
	f       *os.File
	path    string
	entries []journalEntry // results without a done line, in file order
}

// findOrphans locks and reads the journals in dir of host's other
// workers that no live process holds. A journal that is locked (its
// worker lives) or unreadable is skipped.
func findOrphans(dir, host, own string) ([]*orphan, error) {
	paths, err := filepath.Glob(filepath.Join(dir, fileSafe(host, 64)+"@*.journal"))
	if err != nil {
		return nil, fmt.Errorf("list journals: %w", err)
	}
	var out []*orphan
	for _, path := range paths {
		if path == own {
			continue
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		entries, err := readJournal(f)
		if err != nil {
			f.Close()
			return out, fmt.Errorf("read journal %s: %w", path, err)
		}
		out = append(out, &orphan{f: f, path: path, entries: entries})
	}
	return out, nil
}

// readJournal returns the results of f that have no done line. A torn
// last line (the process died mid-write, before the fsync returned) is
// ignored: that result was never acknowledged to anyone.
func readJournal(f *os.File) ([]journalEntry, error) {
	var order []int
	byID := map[int]journalEntry{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Done {
			delete(byID, e.TrialID)
			continue
		}
		if _, ok := byID[e.TrialID]; !ok {
			order = append(order, e.TrialID)
		}
		byID[e.TrialID] = e
	}
	var out []journalEntry
	for _, id := range order {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// release removes the orphan's file when all its entries were delivered,
// and unlocks it.
func (o *orphan) release(delivered bool) error {
	var err error
	if delivered {
		err = os.Remove(o.path)
	}
	return errors.Join(err, o.f.Close())
}

// entryFor builds the journal entry of a finished trial, with the
// reports the store still holds for it.
func entryFor(claim Claim, out outcome, values []stepValue, metrics []stepMetrics) journalEntry {
	e := journalEntry{TrialID: claim.TrialID, Number: claim.Number, State: stateName(out.state), Value: jsonFloat(out.value), Reason: out.reason, Attrs: out.attrs,
		Objectives: jsonFloats(out.values), Constraints: jsonFloats(out.constraints)}
	for _, v := range values {
		e.Values = append(e.Values, journalValue{v.step, jsonFloat(v.value)})
	}
	for _, m := range metrics {
		jm := journalMetric{Step: m.step, Metrics: map[string]jsonFloat{}}
		for k, v := range m.metrics {
			jm.Metrics[k] = jsonFloat(v)
		}
		e.Metrics = append(e.Metrics, jm)
	}
	return e
}

// finite reports whether v is a usable result value.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
