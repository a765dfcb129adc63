package searchtest

import (
	"maps"
	"sync"

	"github.com/c-bata/goptuna"
)

// SafeStorage wraps a goptuna.Storage so that reads return deep copies and
// every call is serialised. goptuna's InMemoryStorage returns trials that
// share their maps with storage, so a sampler reading a RUNNING trial races
// with the worker writing its params; sweep's contract (storage returns
// copies) is what samplers are written against, and concurrent tests use
// this wrapper to get it in memory.
type SafeStorage struct {
	goptuna.Storage
	mu sync.RWMutex
}

// NewSafeStorage wraps s.
func NewSafeStorage(s goptuna.Storage) *SafeStorage { return &SafeStorage{Storage: s} }

func copyTrial(t goptuna.FrozenTrial) goptuna.FrozenTrial {
	t.IntermediateValues = maps.Clone(t.IntermediateValues)
	t.InternalParams = maps.Clone(t.InternalParams)
	t.Params = maps.Clone(t.Params)
	t.Distributions = maps.Clone(t.Distributions)
	t.UserAttrs = maps.Clone(t.UserAttrs)
	t.SystemAttrs = maps.Clone(t.SystemAttrs)
	return t
}

// GetTrial returns a deep copy.
func (s *SafeStorage) GetTrial(id int) (goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.Storage.GetTrial(id)
	return copyTrial(t), err
}

// GetAllTrials returns deep copies.
func (s *SafeStorage) GetAllTrials(studyID int) ([]goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts, err := s.Storage.GetAllTrials(studyID)
	for i := range ts {
		ts[i] = copyTrial(ts[i])
	}
	return ts, err
}

// GetBestTrial returns a deep copy.
func (s *SafeStorage) GetBestTrial(studyID int) (goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.Storage.GetBestTrial(studyID)
	return copyTrial(t), err
}

// GetTrialParams returns a copy.
func (s *SafeStorage) GetTrialParams(id int) (map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.Storage.GetTrialParams(id)
	return maps.Clone(p), err
}

// GetTrialSystemAttrs is serialised with writes.
func (s *SafeStorage) GetTrialSystemAttrs(id int) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.Storage.GetTrialSystemAttrs(id)
}

// CreateNewTrial is serialised.
func (s *SafeStorage) CreateNewTrial(studyID int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.CreateNewTrial(studyID)
}

// SetTrialValue is serialised.
func (s *SafeStorage) SetTrialValue(id int, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialValue(id, v)
}

// SetTrialIntermediateValue is serialised.
func (s *SafeStorage) SetTrialIntermediateValue(id, step int, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialIntermediateValue(id, step, v)
}

// SetTrialParam is serialised.
func (s *SafeStorage) SetTrialParam(id int, name string, v float64, d any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialParam(id, name, v, d)
}

// SetTrialState is serialised.
func (s *SafeStorage) SetTrialState(id int, st goptuna.TrialState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialState(id, st)
}

// SetTrialSystemAttr is serialised.
func (s *SafeStorage) SetTrialSystemAttr(id int, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialSystemAttr(id, k, v)
}

// SetTrialUserAttr is serialised.
func (s *SafeStorage) SetTrialUserAttr(id int, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Storage.SetTrialUserAttr(id, k, v)
}
