package optuna

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Journal op codes (optuna.storages._journal.storage.JournalOperation).
const (
	opCreateStudy      = 0
	opSetStudyUserAttr = 2
	opSetStudySysAttr  = 3
	opCreateTrial      = 4
	journalWorker      = "sweep-export"
	journalTimeLayout  = "2006-01-02T15:04:05.000000" // isoformat(timespec="microseconds"), naive
	journalStudyID     = 0                            // the first study of a fresh log
)

// ErrStudyNotFound means no study has the name asked for.
var ErrStudyNotFound = errors.New("optuna: no such study")

// Optuna's enum values, by the names the views hold.
var (
	trialStates = map[string]int{"RUNNING": 0, "COMPLETE": 1, "PRUNED": 2, "FAIL": 3, "WAITING": 4}
	directions  = map[string]int{"NOT_SET": 0, "MINIMIZE": 1, "MAXIMIZE": 2}
)

// journalTrial is one trial as the optuna views present it.
type journalTrial struct {
	id, number   int
	state        string
	start, end   sql.NullTime
	value        sql.NullFloat64
	valueType    sql.NullString
	dists        object // name → distribution JSON, as a JSON string
	params       object // name → internal value
	userAttrs    object
	systemAttrs  object
	intermediate object // step → value
}

// WriteJournal writes one study as Optuna's JournalFileStorage log (one
// JSON operation a line): a create-study operation, the study's attrs,
// then one create-trial operation per trial in number order carrying
// everything the trial holds, so that
// JournalStorage(JournalFileStorage(path)) and optuna-dashboard load it
// with no database. Every field comes from the optuna views, so the log
// and the RDB views give Optuna the same trials; datetimes are naive local
// times of this process, as Optuna writes them. NaN and infinite
// intermediate values use the NaN/Infinity tokens of Python's json module.
func WriteJournal(ctx context.Context, db *sql.DB, study string, w io.Writer) error {
	var studyID int
	var direction string
	err := db.QueryRowContext(ctx, `SELECT s.study_id, d.direction::text FROM optuna.studies s
JOIN optuna.study_directions d ON d.study_id = s.study_id WHERE s.study_name = $1`, study).Scan(&studyID, &direction)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("export study %q: %w", study, ErrStudyNotFound)
	}
	if err != nil {
		return fmt.Errorf("export study %q: %w", study, err)
	}
	bw := bufio.NewWriter(w)
	line := func(o object) { bw.Write(o.encode()); bw.WriteByte('\n') }
	line(object{{"op_code", num(opCreateStudy)}, {"worker_id", str(journalWorker)}, {"study_name", str(study)},
		{"directions", raw("[" + strconv.Itoa(directions[direction]) + "]")}})
	for _, a := range []struct {
		op         int
		key, query string
	}{
		{opSetStudyUserAttr, "user_attr", `SELECT key, value_json FROM optuna.study_user_attributes WHERE study_id = $1 ORDER BY key`},
		{opSetStudySysAttr, "system_attr", `SELECT key, value_json FROM optuna.study_system_attributes WHERE study_id = $1 ORDER BY key`},
	} {
		err := eachRow(ctx, db, a.query, studyID, func(r *sql.Rows) error {
			var k, v string
			if err := r.Scan(&k, &v); err != nil {
				return err
			}
			line(object{{"op_code", num(a.op)}, {"worker_id", str(journalWorker)}, {"study_id", num(journalStudyID)},
				{a.key, object{{k, raw(v)}}.encode()}})
			return nil
		})
		if err != nil {
			return fmt.Errorf("export study attrs of %q: %w", study, err)
		}
	}
	trials, err := loadJournalTrials(ctx, db, studyID)
	if err != nil {
		return fmt.Errorf("export trials of %q: %w", study, err)
	}
	for _, t := range trials {
		line(t.op())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// op is the trial's create-trial operation, laid out as
// JournalStorage.create_new_trial writes one from a template trial.
func (t *journalTrial) op() object {
	o := object{{"op_code", num(opCreateTrial)}, {"worker_id", str(journalWorker)}, {"study_id", num(journalStudyID)},
		{"datetime_start", isoTime(t.start)}, {"state", num(trialStates[t.state])}}
	value := raw("null")
	if t.value.Valid || t.valueType.Valid {
		value = floatJSON(optunaValue(t.value, t.valueType.String))
	}
	o = append(o, field{"value", value}, field{"values", raw("null")})
	if t.end.Valid { // replay parses the key whenever it is present
		o = append(o, field{"datetime_complete", isoTime(t.end)})
	}
	return append(o, field{"distributions", t.dists.encode()}, field{"params", t.params.encode()},
		field{"user_attrs", t.userAttrs.encode()}, field{"system_attrs", t.systemAttrs.encode()},
		field{"intermediate_values", t.intermediate.encode()})
}

// optunaValue undoes the views' split of a float into a value and a type
// (Optuna's storage cannot hold NaN or ±Inf in the value column).
func optunaValue(v sql.NullFloat64, typ string) float64 {
	switch typ {
	case "INF_POS":
		return math.Inf(1)
	case "INF_NEG":
		return math.Inf(-1)
	case "NAN":
		return math.NaN()
	}
	return v.Float64
}

func isoTime(t sql.NullTime) []byte {
	if !t.Valid {
		return raw("null")
	}
	return str(t.Time.In(time.Local).Format(journalTimeLayout))
}

// loadJournalTrials reads a study's trials and everything they hold from
// the optuna views, in number order.
func loadJournalTrials(ctx context.Context, db *sql.DB, studyID int) ([]*journalTrial, error) {
	var trials []*journalTrial
	byID := map[int]*journalTrial{}
	err := eachRow(ctx, db, `SELECT t.trial_id, t.number, t.state::text, s.started_at, s.finished_at, v.value, v.value_type::text
FROM optuna.trials t JOIN trials s ON s.id = t.trial_id
LEFT JOIN optuna.trial_values v ON v.trial_id = t.trial_id AND v.objective = 0
WHERE t.study_id = $1 ORDER BY t.number`, studyID, func(r *sql.Rows) error {
		t := &journalTrial{}
		if err := r.Scan(&t.id, &t.number, &t.state, &t.start, &t.end, &t.value, &t.valueType); err != nil {
			return err
		}
		trials, byID[t.id] = append(trials, t), t
		return nil
	})
	if err != nil {
		return nil, err
	}
	trial := func(id int) *journalTrial {
		if t := byID[id]; t != nil {
			return t
		}
		return &journalTrial{} // a trial created after the first query: dropped
	}
	parts := []struct {
		query string
		scan  func(r *sql.Rows) error
	}{
		{`SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM optuna.trial_params p
JOIN optuna.trials t ON t.trial_id = p.trial_id WHERE t.study_id = $1 ORDER BY p.param_id`,
			func(r *sql.Rows) error {
				var id int
				var name, dist string
				var x float64
				if err := r.Scan(&id, &name, &x, &dist); err != nil {
					return err
				}
				t := trial(id)
				t.params = append(t.params, field{name, floatJSON(x)})
				t.dists = append(t.dists, field{name, str(dist)})
				return nil
			}},
		{`SELECT v.trial_id, v.step, v.intermediate_value, v.intermediate_value_type::text FROM optuna.trial_intermediate_values v
JOIN optuna.trials t ON t.trial_id = v.trial_id WHERE t.study_id = $1 ORDER BY v.trial_intermediate_value_id`,
			func(r *sql.Rows) error {
				var id, step int
				var v sql.NullFloat64
				var typ string
				if err := r.Scan(&id, &step, &v, &typ); err != nil {
					return err
				}
				t := trial(id)
				t.intermediate = append(t.intermediate, field{strconv.Itoa(step), floatJSON(optunaValue(v, typ))})
				return nil
			}},
		{attrQuery("trial_user_attributes"), func(r *sql.Rows) error {
			return scanAttr(r, func(id int) *object { return &trial(id).userAttrs })
		}},
		{attrQuery("trial_system_attributes"), func(r *sql.Rows) error {
			return scanAttr(r, func(id int) *object { return &trial(id).systemAttrs })
		}},
	}
	for _, p := range parts {
		if err := eachRow(ctx, db, p.query, studyID, p.scan); err != nil {
			return nil, err
		}
	}
	return trials, nil
}

func attrQuery(view string) string {
	return `SELECT a.trial_id, a.key, a.value_json FROM optuna.` + view + ` a
JOIN optuna.trials t ON t.trial_id = a.trial_id WHERE t.study_id = $1 ORDER BY a.trial_id, a.key`
}

func scanAttr(r *sql.Rows, attrs func(trialID int) *object) error {
	var id int
	var k, v string
	if err := r.Scan(&id, &k, &v); err != nil {
		return err
	}
	o := attrs(id)
	*o = append(*o, field{k, raw(v)})
	return nil
}

// eachRow runs query with the study id and calls f on each row.
func eachRow(ctx context.Context, db *sql.DB, query string, studyID int, f func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, studyID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// object is a JSON object with its keys in the order given.
type object []field

type field struct {
	key   string
	value []byte // encoded JSON (Python's dialect: NaN and Infinity allowed)
}

// encode writes o as Python's json.dumps does (", " and ": " separators).
func (o object) encode() []byte {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, str(f.key)...)
		b = append(b, ": "...)
		b = append(b, f.value...)
	}
	return append(b, '}')
}

func raw(s string) []byte { return []byte(s) }
func num(n int) []byte    { return strconv.AppendInt(nil, int64(n), 10) }

// str encodes s as a JSON string.
func str(s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}
