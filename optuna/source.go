package optuna

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"sweep/internal/pyjson"
)

// Study is an Optuna study as read from Optuna's storage, for import.
type Study struct {
	Name      string
	Direction string // "minimize" or "maximize"
	UserAttrs map[string]json.RawMessage
	Trials    []Trial // in number order
}

// Trial is one Optuna trial. Params hold Optuna's internal values (a
// categorical's index), Dists the Optuna distribution JSON of each param.
// Start and End are Optuna's naive local times read in time.Local.
type Trial struct {
	Number       int
	State        string // RUNNING, COMPLETE, PRUNED, FAIL, WAITING
	Value        *float64
	Start, End   *time.Time
	ParamOrder   []string
	Params       map[string]float64
	Dists        map[string]json.RawMessage
	Intermediate map[int]float64
	UserAttrs    map[string]json.RawMessage
	FailReason   string
}

var (
	// ErrMultiObjective means the Optuna study has several objectives;
	// sweep studies have one.
	ErrMultiObjective = errors.New("optuna: multi-objective studies cannot be imported")
	stateNames        = []string{"RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"}
)

func newTrial(number int) *Trial {
	return &Trial{Number: number, State: "RUNNING", Params: map[string]float64{}, Dists: map[string]json.RawMessage{},
		Intermediate: map[int]float64{}, UserAttrs: map[string]json.RawMessage{}}
}

func (t *Trial) setParam(name string, x float64, dist json.RawMessage) {
	if _, ok := t.Params[name]; !ok {
		t.ParamOrder = append(t.ParamOrder, name)
	}
	t.Params[name], t.Dists[name] = x, dist
}

// ReadJournal replays an Optuna JournalFileStorage log (Optuna 3.1's
// operations) and returns the study called name.
func ReadJournal(r io.Reader, name string) (*Study, error) {
	var rp replay
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var op journalOp
		if err := json.Unmarshal(pyjson.Quote(sc.Bytes()), &op); err != nil {
			return nil, fmt.Errorf("read journal line %d: %w", line, err)
		}
		if err := rp.apply(&op); err != nil {
			return nil, fmt.Errorf("read journal line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	for _, s := range rp.studies {
		if !s.deleted && s.study.Name == name {
			if s.study.Direction == "multi" {
				return nil, ErrMultiObjective
			}
			for _, t := range s.trials {
				s.study.Trials = append(s.study.Trials, *t)
			}
			return s.study, nil
		}
	}
	return nil, fmt.Errorf("read journal: %w: %q", ErrStudyNotFound, name)
}

// replay is the state of a journal replay: studies by Optuna's study id,
// trials by its global trial id. Operations on deleted or unknown studies
// and trials are skipped, as Optuna's own replay skips them.
type replay struct {
	studies []*replayStudy
	trials  []*Trial
}

type replayStudy struct {
	study   *Study
	trials  []*Trial
	deleted bool
}

func (rp *replay) study(id int) *replayStudy {
	if id >= 0 && id < len(rp.studies) && !rp.studies[id].deleted {
		return rp.studies[id]
	}
	return nil
}

func (rp *replay) trial(id int) *Trial {
	if id >= 0 && id < len(rp.trials) {
		return rp.trials[id]
	}
	return &Trial{Params: map[string]float64{}, Dists: map[string]json.RawMessage{},
		Intermediate: map[int]float64{}, UserAttrs: map[string]json.RawMessage{}} // written to, then dropped
}

// apply replays one operation (optuna.storages._journal.storage's
// JournalOperation codes).
func (rp *replay) apply(op *journalOp) error {
	switch op.OpCode {
	case opCreateStudy:
		rp.createStudy(op)
	case 1: // delete study
		if s := rp.study(op.StudyID); s != nil {
			s.deleted = true
		}
	case opSetStudyUserAttr:
		if s := rp.study(op.StudyID); s != nil {
			for k, v := range op.UserAttr {
				s.study.UserAttrs[k] = v
			}
		}
	case opCreateTrial:
		t := newTrial(0)
		if s := rp.study(op.StudyID); s != nil {
			t.Number = len(s.trials)
			s.trials = append(s.trials, t)
		}
		rp.trials = append(rp.trials, t)
		return op.template(t)
	case 5: // set trial param
		rp.trial(op.TrialID).setParam(op.ParamName, float64(op.ParamValue), json.RawMessage(op.Distribution))
	case 6: // set trial state and values
		return op.stateValues(rp.trial(op.TrialID))
	case 7: // intermediate value
		rp.trial(op.TrialID).Intermediate[op.Step] = float64(op.IntermediateValue)
	case 8: // trial user attr
		t := rp.trial(op.TrialID)
		for k, v := range op.UserAttr {
			t.UserAttrs[k] = v
		}
	case 9: // trial system attr: only fail_reason is kept
		if v, ok := op.SystemAttr["fail_reason"]; ok {
			json.Unmarshal(v, &rp.trial(op.TrialID).FailReason)
		}
	}
	return nil
}

func (rp *replay) createStudy(op *journalOp) {
	for _, s := range rp.studies {
		if !s.deleted && s.study.Name == op.StudyName {
			return // Optuna ignores a second study of one name
		}
	}
	s := &Study{Name: op.StudyName, Direction: "minimize", UserAttrs: map[string]json.RawMessage{}}
	switch {
	case len(op.Directions) != 1:
		s.Direction = "multi"
	case op.Directions[0] == directions["MAXIMIZE"]:
		s.Direction = "maximize"
	}
	rp.studies = append(rp.studies, &replayStudy{study: s})
}

// journalOp is any journal operation; each op code uses some fields.
type journalOp struct {
	OpCode            int                        `json:"op_code"`
	StudyName         string                     `json:"study_name"`
	Directions        []int                      `json:"directions"`
	StudyID           int                        `json:"study_id"`
	TrialID           int                        `json:"trial_id"`
	UserAttr          map[string]json.RawMessage `json:"user_attr"`
	SystemAttr        map[string]json.RawMessage `json:"system_attr"`
	ParamName         string                     `json:"param_name"`
	ParamValue        pyjson.Float               `json:"param_value_internal"`
	Distribution      string                     `json:"distribution"` // distribution_to_json text
	Step              int                        `json:"step"`
	IntermediateValue pyjson.Float               `json:"intermediate_value"`
	// create trial (from a template) and set state/values
	State         *int                       `json:"state"`
	Value         *pyjson.Float              `json:"value"`
	Values        []pyjson.Float             `json:"values"`
	DatetimeStart *string                    `json:"datetime_start"`
	DatetimeEnd   *string                    `json:"datetime_complete"`
	Distributions map[string]string          `json:"distributions"`
	ParamsMap     map[string]pyjson.Float    `json:"params"`
	UserAttrs     map[string]json.RawMessage `json:"user_attrs"`
	SystemAttrs   map[string]json.RawMessage `json:"system_attrs"`
	Intermediates map[string]pyjson.Float    `json:"intermediate_values"`
}

// template fills a created trial from the operation's template fields.
func (op *journalOp) template(t *Trial) error {
	if err := op.stateValues(t); err != nil {
		return err
	}
	for name, x := range op.ParamsMap {
		t.setParam(name, float64(x), json.RawMessage(op.Distributions[name]))
	}
	sortParams(t)
	for k, v := range op.Intermediates {
		var step int
		if _, err := fmt.Sscan(k, &step); err != nil {
			return fmt.Errorf("intermediate value step %q: %w", k, err)
		}
		t.Intermediate[step] = float64(v)
	}
	for k, v := range op.UserAttrs {
		t.UserAttrs[k] = v
	}
	if v, ok := op.SystemAttrs["fail_reason"]; ok {
		json.Unmarshal(v, &t.FailReason)
	}
	return nil
}

func (op *journalOp) stateValues(t *Trial) error {
	if op.State != nil {
		if *op.State < 0 || *op.State >= len(stateNames) {
			return fmt.Errorf("unknown trial state %d", *op.State)
		}
		t.State = stateNames[*op.State]
	}
	switch {
	case len(op.Values) > 1:
		return ErrMultiObjective
	case len(op.Values) == 1:
		v := float64(op.Values[0])
		t.Value = &v
	case op.Value != nil:
		v := float64(*op.Value)
		t.Value = &v
	}
	for _, d := range []struct {
		s  *string
		to **time.Time
	}{{op.DatetimeStart, &t.Start}, {op.DatetimeEnd, &t.End}} {
		if d.s == nil {
			continue
		}
		tm, err := time.ParseInLocation("2006-01-02T15:04:05.999999", *d.s, time.Local)
		if err != nil {
			return fmt.Errorf("parse datetime: %w", err)
		}
		*d.to = &tm
	}
	return nil
}

// sortParams orders a template trial's params by name: a JSON object has
// no order to keep.
func sortParams(t *Trial) {
	for i := 1; i < len(t.ParamOrder); i++ {
		for j := i; j > 0 && t.ParamOrder[j] < t.ParamOrder[j-1]; j-- {
			t.ParamOrder[j], t.ParamOrder[j-1] = t.ParamOrder[j-1], t.ParamOrder[j]
		}
	}
}

// ReadRDB reads the study called name from an Optuna RDB storage on
// PostgreSQL (Optuna 3.x tables, alembic revision v3.0.0.d or later).
// dsn may be SQLAlchemy's form (postgresql+psycopg2://...).
func ReadRDB(ctx context.Context, dsn, name string) (*Study, error) {
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok {
		if base, _, driver := strings.Cut(scheme, "+"); driver && (base == "postgresql" || base == "postgres") {
			dsn = base + "://" + rest
		}
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open optuna storage: %w", err)
	}
	defer db.Close()
	return readRDB(ctx, db, name)
}
