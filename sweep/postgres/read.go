package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/c-bata/goptuna"
	"github.com/lib/pq"
)

// trialRow is a trials row as goptuna.FrozenTrial needs it.
type trialRow struct {
	ID       int             `db:"id"`
	StudyID  int             `db:"study_id"`
	Number   int             `db:"number"`
	State    string          `db:"state"`
	Value    sql.NullFloat64 `db:"value"`
	Started  sql.NullTime    `db:"started_at"`
	Finished sql.NullTime    `db:"finished_at"`
}

const trialCols = `id, study_id, number, state, value, started_at, finished_at`

// trialCache holds finished trials, which never change (every write checks
// the state under a row lock), so a cached copy stays correct whatever
// other processes do. Unfinished trials are never cached.
//
// Per study it also keeps the trial IDs by number. Numbers are taken under
// the study row's lock and inserted in the same transaction, so trials
// become visible in number order: once number k is seen, every smaller
// number is visible too. GetAllTrials therefore only asks for numbers above
// the highest seen and for the numbers not yet finished.
type trialCache struct {
	mu       sync.RWMutex
	m        map[int]goptuna.FrozenTrial // trial ID → finished trial
	byNumber map[int][]int               // study ID → trial IDs by number (0 = not seen)
}

func newTrialCache() *trialCache {
	return &trialCache{m: map[int]goptuna.FrozenTrial{}, byNumber: map[int][]int{}}
}

func (c *trialCache) get(id int) (goptuna.FrozenTrial, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.m[id]
	return t, ok
}

func (c *trialCache) put(t goptuna.FrozenTrial) {
	if !t.State.IsFinished() {
		return
	}
	c.mu.Lock()
	c.m[t.ID] = t
	c.mu.Unlock()
}

// unknown returns the highest number seen in the study (-1: none) and the
// numbers up to it whose trial is not cached as finished.
func (c *trialCache) unknown(studyID int) (maxSeen int, pending []int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ids := c.byNumber[studyID]
	for n, id := range ids {
		if _, ok := c.m[id]; !ok {
			pending = append(pending, int64(n))
		}
	}
	return len(ids) - 1, pending
}

// saw records trials read from the database and caches the finished ones.
func (c *trialCache) saw(studyID int, ts []goptuna.FrozenTrial) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.byNumber[studyID]
	for _, t := range ts {
		for len(ids) <= t.Number {
			ids = append(ids, 0)
		}
		ids[t.Number] = t.ID
		if t.State.IsFinished() {
			c.m[t.ID] = copyTrial(t)
		}
	}
	c.byNumber[studyID] = ids
}

// assemble returns the study's trials in number order: fresh ones from
// rows, the rest copied from the cache. ok is false when a number has no
// trial in either (the caller then reads again). The deep copies are made
// after the lock is released: cached trials are never modified in place.
func (c *trialCache) assemble(studyID int, fresh []goptuna.FrozenTrial) (out []goptuna.FrozenTrial, ok bool) {
	byID := make(map[int]goptuna.FrozenTrial, len(fresh))
	for _, t := range fresh {
		byID[t.ID] = t
	}
	isFresh := make([]bool, 0, len(fresh))
	c.mu.RLock()
	ids := c.byNumber[studyID]
	out = make([]goptuna.FrozenTrial, 0, len(ids))
	for _, id := range ids {
		if t, found := byID[id]; found {
			out, isFresh = append(out, t), append(isFresh, true)
		} else if t, found := c.m[id]; found {
			out, isFresh = append(out, t), append(isFresh, false)
		} else {
			c.mu.RUnlock()
			return nil, false
		}
	}
	c.mu.RUnlock()
	for i := range out {
		if !isFresh[i] {
			out[i] = copyTrial(out[i])
		}
	}
	return out, true
}

func (c *trialCache) dropStudy(studyID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, t := range c.m {
		if t.StudyID == studyID {
			delete(c.m, id)
		}
	}
	delete(c.byNumber, studyID)
}

// copyTrial returns t with its own maps, so callers may modify the result
// without touching the cache.
func copyTrial(t goptuna.FrozenTrial) goptuna.FrozenTrial {
	t.IntermediateValues = maps.Clone(t.IntermediateValues)
	t.InternalParams = maps.Clone(t.InternalParams)
	t.Params = maps.Clone(t.Params)
	t.Distributions = maps.Clone(t.Distributions)
	t.UserAttrs = maps.Clone(t.UserAttrs)
	t.SystemAttrs = maps.Clone(t.SystemAttrs)
	return t
}

// GetTrial returns a copy of one trial. The trial row is always read (one
// round trip); its params, values and attrs only when it is not cached.
func (s *Storage) GetTrial(trialID int) (goptuna.FrozenTrial, error) {
	ctx, cancel := s.call()
	defer cancel()
	return s.getTrial(ctx, trialID)
}

func (s *Storage) getTrial(ctx context.Context, trialID int) (goptuna.FrozenTrial, error) {
	var r trialRow
	err := s.db.GetContext(ctx, &r, `SELECT `+trialCols+` FROM trials WHERE id = $1`, trialID)
	if err != nil {
		return goptuna.FrozenTrial{}, notFound(err, "get trial", trialID, goptuna.ErrInvalidTrialID)
	}
	ts, err := s.complete(ctx, []trialRow{r})
	if err != nil {
		return goptuna.FrozenTrial{}, err
	}
	return ts[0], nil
}

// GetAllTrials returns copies of a study's trials in number order. Only
// trials this Storage has not seen finished are read from the database
// (new numbers and unfinished ones, see trialCache); the rest are copies of
// cached finished trials. A sampler calling it per suggestion on a
// 1000-trial study thus reads a handful of rows, not 1000 trials' params.
func (s *Storage) GetAllTrials(studyID int) ([]goptuna.FrozenTrial, error) {
	ctx, cancel := s.call()
	defer cancel()
	// A concurrent call on this Storage may advance the index past trials
	// this call did not read; it then reads again with the updated index.
	for attempt := 0; attempt < 8; attempt++ {
		maxSeen, pending := s.cache.unknown(studyID)
		var rows []trialRow
		if err := s.db.SelectContext(ctx, &rows, `
			SELECT `+trialCols+` FROM trials
			WHERE study_id = $1 AND (number > $2 OR number = ANY($3))
			ORDER BY number`, studyID, maxSeen, pq.Int64Array(pending)); err != nil {
			return nil, fmt.Errorf("list trials of study %d: %w", studyID, err)
		}
		if len(rows) == 0 {
			if err := s.checkStudy(ctx, studyID); err != nil {
				return nil, err
			}
		}
		fresh, err := s.complete(ctx, rows)
		if err != nil {
			return nil, err
		}
		s.cache.saw(studyID, fresh)
		if out, ok := s.cache.assemble(studyID, fresh); ok {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list trials of study %d: trial numbers kept changing under concurrent reads", studyID)
}

// checkStudy returns goptuna.ErrInvalidStudyID (wrapped) if the study is
// gone, forgetting what the cache held about it.
func (s *Storage) checkStudy(ctx context.Context, studyID int) error {
	var exists bool
	if err := s.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM studies WHERE id = $1)`, studyID); err != nil {
		return fmt.Errorf("list trials of study %d: %w", studyID, err)
	}
	if !exists {
		s.cache.dropStudy(studyID)
		return fmt.Errorf("list trials of study %d: %w", studyID, goptuna.ErrInvalidStudyID)
	}
	return nil
}

// complete turns rows into trials, from the cache where possible.
func (s *Storage) complete(ctx context.Context, rows []trialRow) ([]goptuna.FrozenTrial, error) {
	out := make([]goptuna.FrozenTrial, len(rows))
	var missing []int64
	at := map[int]int{} // trial ID -> index in out
	for i, r := range rows {
		if t, ok := s.cache.get(r.ID); ok {
			out[i] = copyTrial(t)
			continue
		}
		st, err := parseState(r.State)
		if err != nil {
			return nil, err
		}
		out[i] = goptuna.FrozenTrial{
			ID: r.ID, StudyID: r.StudyID, Number: r.Number, State: st, Value: r.Value.Float64,
			DatetimeStart: r.Started.Time, DatetimeComplete: r.Finished.Time,
			IntermediateValues: map[int]float64{}, InternalParams: map[string]float64{},
			Params: map[string]interface{}{}, Distributions: map[string]interface{}{},
			UserAttrs: map[string]string{}, SystemAttrs: map[string]string{},
		}
		missing = append(missing, int64(r.ID))
		at[r.ID] = i
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := s.loadDetails(ctx, missing, func(id int) *goptuna.FrozenTrial { return &out[at[id]] }); err != nil {
		return nil, err
	}
	for _, id := range missing {
		s.cache.put(copyTrial(out[at[int(id)]]))
	}
	return out, nil
}

// Kinds of row in loadDetails' union.
const (
	kindParam = iota
	kindValue
	kindUserAttr
	kindSystemAttr
)

// loadDetails fills params, intermediate values and attrs of trials ids in
// a single round trip.
func (s *Storage) loadDetails(ctx context.Context, ids []int64, trial func(id int) *goptuna.FrozenTrial) error {
	rows, err := s.db.QueryContext(ctx, `
		SELECT 0, trial_id, name, value, distribution::text, 0 FROM trial_params WHERE trial_id = ANY($1)
		UNION ALL SELECT 1, trial_id, '', value, '', step FROM trial_values WHERE trial_id = ANY($1)
		UNION ALL SELECT 2, trial_id, key, 0, value, 0 FROM trial_user_attrs WHERE trial_id = ANY($1)
		UNION ALL SELECT 3, trial_id, key, 0, value, 0 FROM trial_system_attrs WHERE trial_id = ANY($1)`,
		pq.Int64Array(ids))
	if err != nil {
		return fmt.Errorf("load trial details: %w", err)
	}
	defer rows.Close()
	dists := map[string]interface{}{} // decoded distributions by JSON text
	for rows.Next() {
		var kind, id, step int
		var key, str string
		var num float64
		if err := rows.Scan(&kind, &id, &key, &num, &str, &step); err != nil {
			return fmt.Errorf("load trial details: %w", err)
		}
		t := trial(id)
		switch kind {
		case kindParam:
			d, ok := dists[str]
			if !ok {
				if d, err = goptuna.JSONToDistribution([]byte(str)); err != nil {
					return fmt.Errorf("decode distribution of param %q of trial %d: %w", key, id, err)
				}
				dists[str] = d
			}
			x, err := goptuna.ToExternalRepresentation(d, num)
			if err != nil {
				return fmt.Errorf("convert param %q of trial %d: %w", key, id, err)
			}
			t.InternalParams[key], t.Distributions[key], t.Params[key] = num, d, x
		case kindValue:
			t.IntermediateValues[step] = num
		case kindUserAttr:
			t.UserAttrs[key] = str
		case kindSystemAttr:
			t.SystemAttrs[key] = str
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load trial details: %w", err)
	}
	return nil
}

// GetBestTrial returns the COMPLETE trial with the best value in the
// study's direction (NaN values never win; ties go to the lower number),
// or goptuna.ErrNoCompletedTrials.
func (s *Storage) GetBestTrial(studyID int) (goptuna.FrozenTrial, error) {
	ctx, cancel := s.call()
	defer cancel()
	var id sql.NullInt64
	err := s.db.GetContext(ctx, &id, `
		SELECT (SELECT t.id FROM trials t
		        WHERE t.study_id = s.id AND t.state = 'COMPLETE' AND t.value IS NOT NULL AND t.value <> 'NaN'
		        ORDER BY CASE WHEN s.direction = 'maximize' THEN -t.value ELSE t.value END, t.number
		        LIMIT 1)
		FROM studies s WHERE s.id = $1`, studyID)
	if err != nil {
		return goptuna.FrozenTrial{}, notFound(err, "get best trial of study", studyID, goptuna.ErrInvalidStudyID)
	}
	if !id.Valid {
		return goptuna.FrozenTrial{}, goptuna.ErrNoCompletedTrials
	}
	return s.getTrial(ctx, int(id.Int64))
}

// GetTrialNumberFromID returns a trial's number within its study.
func (s *Storage) GetTrialNumberFromID(trialID int) (int, error) {
	ctx, cancel := s.call()
	defer cancel()
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT number FROM trials WHERE id = $1`, trialID)
	return n, notFound(err, "get number of trial", trialID, goptuna.ErrInvalidTrialID)
}

// ErrParamNotSet is returned (wrapped) by GetTrialParam for a parameter
// the trial does not have.
var ErrParamNotSet = errors.New("postgres: param not set")

// GetTrialParam returns the internal value of one parameter.
func (s *Storage) GetTrialParam(trialID int, name string) (float64, error) {
	t, err := s.GetTrial(trialID)
	if err != nil {
		return 0, err
	}
	v, ok := t.InternalParams[name]
	if !ok {
		return 0, fmt.Errorf("get param %q of trial %d: %w", name, trialID, ErrParamNotSet)
	}
	return v, nil
}

// GetTrialParams returns a copy of a trial's external parameter values.
func (s *Storage) GetTrialParams(trialID int) (map[string]interface{}, error) {
	t, err := s.GetTrial(trialID)
	return t.Params, err
}

// GetTrialUserAttrs returns a copy of a trial's user attributes.
func (s *Storage) GetTrialUserAttrs(trialID int) (map[string]string, error) {
	t, err := s.GetTrial(trialID)
	return t.UserAttrs, err
}

// GetTrialSystemAttrs returns a copy of a trial's system attributes.
func (s *Storage) GetTrialSystemAttrs(trialID int) (map[string]string, error) {
	t, err := s.GetTrial(trialID)
	return t.SystemAttrs, err
}

// TrialMetrics returns what RecordMetrics stored for a trial: step → name
// → value.
func (s *Storage) TrialMetrics(ctx context.Context, trialID int) (map[int]map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT step, name, value FROM trial_metrics WHERE trial_id = $1`, trialID)
	if err != nil {
		return nil, fmt.Errorf("load metrics of trial %d: %w", trialID, err)
	}
	defer rows.Close()
	out := map[int]map[string]float64{}
	for rows.Next() {
		var step int
		var name string
		var v float64
		if err := rows.Scan(&step, &name, &v); err != nil {
			return nil, fmt.Errorf("load metrics of trial %d: %w", trialID, err)
		}
		if out[step] == nil {
			out[step] = map[string]float64{}
		}
		out[step][name] = v
	}
	return out, rows.Err()
}

// TrialAttempt returns a trial's attempt (0 for an original trial) and the
// ID of the trial it re-runs (0 for none). goptuna.FrozenTrial has no place
// for them; a worker needs them to apply the retry limit to trials that
// ReapStale returns.
func (s *Storage) TrialAttempt(ctx context.Context, trialID int) (attempt, retryOf int, err error) {
	var r sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT attempt, retry_of FROM trials WHERE id = $1`, trialID).Scan(&attempt, &r)
	return attempt, int(r.Int64), notFound(err, "get attempt of trial", trialID, goptuna.ErrInvalidTrialID)
}

// UnretriedFailures returns the IDs of the study's FAIL trials with an
// attempt below belowAttempt and no retry copy, oldest first (see
// sweep.UnretriedLister).
func (s *Storage) UnretriedFailures(ctx context.Context, studyID, belowAttempt int) ([]int, error) {
	var ids []int
	err := s.db.SelectContext(ctx, &ids, `
		SELECT t.id FROM trials t
		WHERE t.study_id = $1 AND t.state = 'FAIL' AND t.attempt < $2
		  AND NOT EXISTS (SELECT 1 FROM trials r WHERE r.retry_of = t.id)
		ORDER BY t.number`, studyID, belowAttempt)
	if err != nil {
		return nil, fmt.Errorf("list unretried failures: %w", err)
	}
	return ids, nil
}
