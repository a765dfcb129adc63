// Package sweeptest provides an in-memory sweep.Store for testing the
// orchestrator without PostgreSQL. It holds one study, like goptuna's
// InMemoryStorage it wraps; it is not a conformance reference for
// sweep/postgres (see sweep/storagetest for that).
package sweeptest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/c-bata/goptuna"

	"sweep/search/sampler"
	"sweep/sweep"
)

var (
	_ sweep.Store              = (*Store)(nil)
	_ sweep.TrialAttempter     = (*Store)(nil)
	_ sweep.UnretriedLister    = (*Store)(nil)
	_ sweep.LateResultRecorder = (*Store)(nil)
	_ sweep.StopRecorder       = (*Store)(nil)
	_ sweep.FailureCounter     = (*Store)(nil)
)

// Store is an in-memory sweep.Store holding at most one study. It is safe
// for concurrent use; reads return deep copies. The Func fields, when set,
// inject faults: a non-nil error they return is returned instead of doing
// the operation.
type Store struct {
	mem *goptuna.InMemoryStorage

	// ClaimFunc, when set, runs before every ClaimTrial.
	ClaimFunc func() error
	// Now is the clock for heartbeats; nil means time.Now.
	Now func() time.Time

	mu        sync.RWMutex
	info      *sweep.StudyInfo
	heartbeat map[int]time.Time
	workers   map[int]string // trial → worker id
	reasons   map[int]string
	indexes   map[string]int
	metrics   map[int]map[int]map[string]float64
	claims    int
	attempt   map[int]int
	retryOf   map[int]int
	retried   map[int]int // original → copy
	late      map[int]map[string]string
	rewritten map[int]map[int]float64 // values re-reported at a step that had one
}

// New returns an empty store.
func New() *Store {
	return &Store{
		mem:       goptuna.NewInMemoryStorage(),
		heartbeat: map[int]time.Time{},
		workers:   map[int]string{},
		reasons:   map[int]string{},
		indexes:   map[string]int{},
		metrics:   map[int]map[int]map[string]float64{},
		attempt:   map[int]int{},
		retryOf:   map[int]int{},
		retried:   map[int]int{},
		late:      map[int]map[string]string{},
		rewritten: map[int]map[int]float64{},
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// EnsureStudy implements sweep.Store.
func (s *Store) EnsureStudy(ctx context.Context, info sweep.StudyInfo, force bool) (sweep.StudyInfo, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info == nil {
		id, err := s.mem.CreateNewStudy(info.Name)
		if err != nil {
			return sweep.StudyInfo{}, false, err
		}
		if err := s.mem.SetStudyDirection(id, goptuna.StudyDirection(info.Direction)); err != nil {
			return sweep.StudyInfo{}, false, err
		}
		info.ID, info.Created, info.Status = id, s.now(), "running"
		s.info = &info
		return info, true, nil
	}
	if s.info.Name != info.Name {
		return sweep.StudyInfo{}, false, errors.New("sweeptest: the store holds one study only")
	}
	if string(s.info.Spec) != string(info.Spec) {
		if !force {
			return *s.info, false, sweep.ErrSpecChanged
		}
		s.info.Spec, s.info.Trials, s.info.Metric = info.Spec, info.Trials, info.Metric
		s.info.Status, s.info.StopReason = "running", ""
	}
	return *s.info, false, nil
}

// Study implements sweep.Store.
func (s *Store) Study(ctx context.Context, name string) (sweep.StudyInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.info == nil || s.info.Name != name {
		return sweep.StudyInfo{}, fmt.Errorf("%w: %q", sweep.ErrStudyNotFound, name)
	}
	return *s.info, nil
}

// ClaimTrial implements sweep.Store: WAITING trials first, then new ones
// while the budget allows.
func (s *Store) ClaimTrial(ctx context.Context, studyID int, workerID, host string) (sweep.Claim, error) {
	if s.ClaimFunc != nil {
		if err := s.ClaimFunc(); err != nil {
			return sweep.Claim{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	trials, err := s.mem.GetAllTrials(studyID)
	if err != nil {
		return sweep.Claim{}, err
	}
	for _, t := range trials {
		if t.State == goptuna.TrialStateWaiting {
			if err := s.mem.SetTrialState(t.ID, goptuna.TrialStateRunning); err != nil {
				return sweep.Claim{}, err
			}
			s.claimed(t.ID, workerID)
			return sweep.Claim{TrialID: t.ID, Number: t.Number, Params: maps.Clone(t.InternalParams), Attempt: s.attempt[t.ID], RetryOf: s.retryOf[t.ID]}, nil
		}
	}
	if s.info == nil || len(trials) >= s.info.Trials {
		return sweep.Claim{}, sweep.ErrBudgetExhausted
	}
	id, err := s.mem.CreateNewTrial(studyID)
	if err != nil {
		return sweep.Claim{}, err
	}
	s.claimed(id, workerID)
	n, _ := s.mem.GetTrialNumberFromID(id)
	return sweep.Claim{TrialID: id, Number: n}, nil
}

func (s *Store) claimed(id int, workerID string) {
	s.claims++
	s.heartbeat[id] = s.now()
	s.workers[id] = workerID
}

// FinishTrial implements sweep.Store.
func (s *Store) FinishTrial(ctx context.Context, trialID int, state goptuna.TrialState, value float64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.mem.GetTrial(trialID)
	if err != nil {
		return err
	}
	if t.State != goptuna.TrialStateRunning {
		return sweep.ErrTrialFinished
	}
	if !math.IsNaN(value) {
		if err := s.mem.SetTrialValue(trialID, value); err != nil {
			return err
		}
	}
	s.reasons[trialID] = reason
	return s.mem.SetTrialState(trialID, state)
}

// Heartbeat implements sweep.Store.
func (s *Store) Heartbeat(ctx context.Context, trialID int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.mem.GetTrial(trialID)
	if err != nil {
		return err
	}
	if t.State != goptuna.TrialStateRunning {
		return sweep.ErrTrialFinished
	}
	s.heartbeat[trialID] = s.now()
	return nil
}

// ReapStale implements sweep.Store.
func (s *Store) ReapStale(ctx context.Context, studyID int, grace time.Duration) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	trials, err := s.mem.GetAllTrials(studyID)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, t := range trials {
		if t.State == goptuna.TrialStateRunning && s.now().Sub(s.heartbeat[t.ID]) > grace {
			if err := s.mem.SetTrialState(t.ID, goptuna.TrialStateFail); err != nil {
				return ids, err
			}
			s.reasons[t.ID] = "stale"
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

// WorkerIndex implements sweep.Store.
func (s *Store) WorkerIndex(ctx context.Context, studyID int, workerID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.indexes[workerID]
	if !ok {
		i = len(s.indexes)
		s.indexes[workerID] = i
	}
	return i, nil
}

// RecordMetrics implements sweep.Store.
func (s *Store) RecordMetrics(ctx context.Context, trialID, step int, metrics map[string]float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metrics[trialID] == nil {
		s.metrics[trialID] = map[int]map[string]float64{}
	}
	s.metrics[trialID][step] = maps.Clone(metrics)
	return nil
}

// Reason returns the reason a trial was finished with.
func (s *Store) Reason(trialID int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.reasons[trialID]
}

// Worker returns the id of the worker that claimed a trial.
func (s *Store) Worker(trialID int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.workers[trialID]
}

// Metrics returns a trial's recorded metrics by step.
func (s *Store) Metrics(trialID int) map[int]map[string]float64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.metrics[trialID])
}

// RetryTrial implements sweep.Store.
func (s *Store) RetryTrial(ctx context.Context, trialID int, inherit bool) (int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.retried[trialID]; ok {
		return id, false, nil
	}
	t, err := s.mem.GetTrial(trialID)
	if err != nil {
		return 0, false, err
	}
	studyID := goptuna.InMemoryStorageStudyID // InMemoryStorage leaves FrozenTrial.StudyID unset
	trials, _ := s.mem.GetAllTrials(studyID)
	if s.info == nil || len(trials) >= s.info.Trials {
		return 0, false, sweep.ErrBudgetExhausted
	}
	iv := map[int]float64{}
	if inherit {
		iv = maps.Clone(t.IntermediateValues)
	}
	id, err := s.enqueue(studyID, maps.Clone(t.InternalParams), maps.Clone(t.Distributions), iv)
	if err != nil {
		return 0, false, err
	}
	if err := s.mem.SetTrialSystemAttr(id, sampler.RetryOfAttr, strconv.Itoa(trialID)); err != nil {
		return 0, false, err
	}
	s.retried[trialID], s.retryOf[id], s.attempt[id] = id, trialID, s.attempt[trialID]+1
	return id, true, nil
}

// SetStudyStatus implements sweep.Store.
func (s *Store) SetStudyStatus(ctx context.Context, studyID int, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info == nil {
		return sweep.ErrStudyNotFound
	}
	s.info.Status = status
	return nil
}

// Enqueue adds a WAITING trial with fixed internal params, as a retry does.
func (s *Store) Enqueue(studyID int, params map[string]float64, dists map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.enqueue(studyID, params, dists, map[int]float64{})
	return err
}

func (s *Store) enqueue(studyID int, params map[string]float64, dists map[string]any, iv map[int]float64) (int, error) {
	ext := map[string]any{}
	for k, v := range params {
		x, err := goptuna.ToExternalRepresentation(dists[k], v)
		if err != nil {
			return 0, err
		}
		ext[k] = x
	}
	return s.mem.CloneTrial(studyID, goptuna.FrozenTrial{
		State: goptuna.TrialStateWaiting, DatetimeStart: s.now(), InternalParams: params, Params: ext,
		Distributions: dists, IntermediateValues: iv, UserAttrs: map[string]string{}, SystemAttrs: map[string]string{},
	})
}

// TrialAttempt implements sweep.TrialAttempter, so Reap applies the retry
// limit to stale trials here as it does on PostgreSQL.
func (s *Store) TrialAttempt(ctx context.Context, trialID int) (attempt, retryOf int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mem.GetTrial(trialID); err != nil {
		return 0, 0, err
	}
	return s.attempt[trialID], s.retryOf[trialID], nil
}

// UnretriedFailures implements sweep.UnretriedLister.
func (s *Store) UnretriedFailures(ctx context.Context, studyID, belowAttempt int) ([]int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	trials, err := s.mem.GetAllTrials(studyID)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, t := range trials {
		if _, retried := s.retried[t.ID]; t.State == goptuna.TrialStateFail && !retried && s.attempt[t.ID] < belowAttempt {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}

// RecordLateResult implements sweep.LateResultRecorder; Late reads it back.
func (s *Store) RecordLateResult(ctx context.Context, trialID int, state goptuna.TrialState, value float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mem.GetTrial(trialID); err != nil {
		return err
	}
	s.late[trialID] = map[string]string{
		sweep.LateResultAttr: strconv.FormatFloat(value, 'g', -1, 64),
		sweep.LateStateAttr:  strings.ToUpper(state.String()),
	}
	return nil
}

// Late returns the late result attrs kept for a trial (nil if none).
func (s *Store) Late(trialID int) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.late[trialID])
}

// RecordStop implements sweep.StopRecorder: the first reason stays.
func (s *Store) RecordStop(ctx context.Context, studyID int, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.info == nil || s.info.ID != studyID {
		return sweep.ErrStudyNotFound
	}
	if s.info.StopReason == "" {
		s.info.StopReason = reason
	}
	return nil
}

// CountFailures implements sweep.FailureCounter: FAIL trials other than
// interrupted ones.
func (s *Store) CountFailures(ctx context.Context, studyID int) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	trials, err := s.mem.GetAllTrials(studyID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range trials {
		if t.State == goptuna.TrialStateFail && s.reasons[t.ID] != sweep.ReasonInterrupted {
			n++
		}
	}
	return n, nil
}
