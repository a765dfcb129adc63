package sweeptest

import (
	"maps"

	"github.com/c-bata/goptuna"
)

// The goptuna.Storage methods below serialise on the Store's lock and copy
// what they return, so concurrent slots never share a map.

func (s *Store) CreateNewStudy(name string) (int, error) { return s.mem.CreateNewStudy(name) }
func (s *Store) DeleteStudy(id int) error                { return s.mem.DeleteStudy(id) }
func (s *Store) SetStudyDirection(id int, d goptuna.StudyDirection) error {
	return s.mem.SetStudyDirection(id, d)
}
func (s *Store) SetStudyUserAttr(id int, k, v string) error { return s.mem.SetStudyUserAttr(id, k, v) }
func (s *Store) SetStudySystemAttr(id int, k, v string) error {
	return s.mem.SetStudySystemAttr(id, k, v)
}
func (s *Store) GetStudyIDFromName(name string) (int, error) { return s.mem.GetStudyIDFromName(name) }
func (s *Store) GetStudyIDFromTrialID(id int) (int, error)   { return s.mem.GetStudyIDFromTrialID(id) }
func (s *Store) GetStudyNameFromID(id int) (string, error)   { return s.mem.GetStudyNameFromID(id) }
func (s *Store) GetStudyDirection(id int) (goptuna.StudyDirection, error) {
	return s.mem.GetStudyDirection(id)
}
func (s *Store) GetStudyUserAttrs(id int) (map[string]string, error) {
	return s.mem.GetStudyUserAttrs(id)
}
func (s *Store) GetStudySystemAttrs(id int) (map[string]string, error) {
	return s.mem.GetStudySystemAttrs(id)
}
func (s *Store) GetAllStudySummaries() ([]goptuna.StudySummary, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.GetAllStudySummaries()
}

func (s *Store) CreateNewTrial(id int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CreateNewTrial(id)
}
func (s *Store) CloneTrial(id int, base goptuna.FrozenTrial) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CloneTrial(id, copyTrial(base))
}
func (s *Store) SetTrialValue(id int, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetTrialValue(id, v)
}
func (s *Store) SetTrialIntermediateValue(id, step int, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.mem.GetTrial(id)
	if err != nil {
		return err
	}
	if _, ok := t.IntermediateValues[step]; ok && !t.State.IsFinished() {
		// An upsert, as PostgreSQL's: a rerun re-reports inherited steps.
		if s.rewritten[id] == nil {
			s.rewritten[id] = map[int]float64{}
		}
		s.rewritten[id][step] = v
		return nil
	}
	return s.mem.SetTrialIntermediateValue(id, step, v)
}
func (s *Store) SetTrialParam(id int, name string, v float64, d any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetTrialParam(id, name, v, d)
}
func (s *Store) SetTrialState(id int, st goptuna.TrialState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetTrialState(id, st)
}
func (s *Store) SetTrialUserAttr(id int, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetTrialUserAttr(id, k, v)
}
func (s *Store) SetTrialSystemAttr(id int, k, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetTrialSystemAttr(id, k, v)
}

func (s *Store) GetTrialNumberFromID(id int) (int, error) { return s.mem.GetTrialNumberFromID(id) }
func (s *Store) GetTrialParam(id int, name string) (float64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.GetTrialParam(id, name)
}
func (s *Store) GetTrial(id int) (goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.mem.GetTrial(id)
	return s.view(t), err
}
func (s *Store) GetAllTrials(id int) ([]goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts, err := s.mem.GetAllTrials(id)
	out := make([]goptuna.FrozenTrial, len(ts))
	for i, t := range ts {
		out[i] = s.view(t)
	}
	return out, err
}
func (s *Store) GetBestTrial(id int) (goptuna.FrozenTrial, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.mem.GetBestTrial(id)
	return s.view(t), err
}
func (s *Store) GetTrialParams(id int) (map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, err := s.mem.GetTrialParams(id)
	return maps.Clone(m), err
}
func (s *Store) GetTrialUserAttrs(id int) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, err := s.mem.GetTrialUserAttrs(id)
	return maps.Clone(m), err
}
func (s *Store) GetTrialSystemAttrs(id int) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, err := s.mem.GetTrialSystemAttrs(id)
	return maps.Clone(m), err
}

// view is a stored trial as readers see it: a deep copy, with the values
// re-reported at a step that had one.
func (s *Store) view(t goptuna.FrozenTrial) goptuna.FrozenTrial {
	t = copyTrial(t)
	maps.Copy(t.IntermediateValues, s.rewritten[t.ID])
	return t
}

// copyTrial deep-copies the maps of a trial.
func copyTrial(t goptuna.FrozenTrial) goptuna.FrozenTrial {
	t.IntermediateValues = maps.Clone(t.IntermediateValues)
	t.InternalParams = maps.Clone(t.InternalParams)
	t.Params = maps.Clone(t.Params)
	t.Distributions = maps.Clone(t.Distributions)
	t.UserAttrs = maps.Clone(t.UserAttrs)
	t.SystemAttrs = maps.Clone(t.SystemAttrs)
	return t
}
