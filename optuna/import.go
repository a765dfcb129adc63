package optuna

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/lib/pq"

	"sweep/search"
)

// ErrStudyExists means sweep already has a study of the imported name.
var ErrStudyExists = errors.New("optuna: a study of that name exists in sweep")

// CheckSpace reports every param of the Optuna study that the spec's space
// lacks or describes with another distribution (one line each), so a
// study continued with --spec samples what the imported trials used.
func CheckSpace(spec *search.Spec, st *Study) error {
	have := map[string]search.Param{}
	for _, p := range Params(spec.Params) {
		have[p.Name] = p
	}
	imported, err := Space(st)
	if err != nil {
		return err
	}
	var problems []string
	for _, p := range imported {
		q, ok := have[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("param %s: in the Optuna study, not in the spec", p.Name))
		case !SameParam(p, q):
			problems = append(problems, fmt.Sprintf("param %s: Optuna has %s, the spec %s", p.Name, describe(p), describe(q)))
		}
	}
	if spec.Direction != st.Direction {
		problems = append(problems, fmt.Sprintf("direction: Optuna has %s, the spec %s", st.Direction, spec.Direction))
	}
	if len(problems) > 0 {
		return fmt.Errorf("check spec against the Optuna study:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func describe(p search.Param) string {
	b, err := Distribution(p)
	if err != nil {
		return string(p.Type)
	}
	return string(b)
}

// Import copies an Optuna study into sweep's tables in one transaction,
// under name with the given spec (its YAML text stored as the study's
// spec): trials with their numbers, states, values, datetimes, params,
// intermediate values and user attrs, and the study's user attrs. Optuna's
// RUNNING and WAITING trials become FAIL with a reason saying so (no
// sweep worker owns them); other system attrs than fail_reason are not
// copied. The study's budget is the spec's trials, at least the trials
// imported, so sweep start can continue it once the budget is raised.
func Import(ctx context.Context, db *sql.DB, st *Study, name string, spec *search.Spec, specText []byte) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("import study: %w", err)
	}
	defer tx.Rollback()
	var studyID int
	err = tx.QueryRowContext(ctx, `INSERT INTO studies (name, direction, metric, spec, trial_budget, next_number)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, name, st.Direction, spec.Metric, string(specText),
		max(spec.Trials, len(st.Trials)), len(st.Trials)).Scan(&studyID)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return 0, fmt.Errorf("import study %q: %w", name, ErrStudyExists)
	}
	if err != nil {
		return 0, fmt.Errorf("import study: %w", err)
	}
	for _, k := range sortedKeys(st.UserAttrs) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO study_user_attrs (study_id, key, value) VALUES ($1, $2, $3)`,
			studyID, k, attrText(st.UserAttrs[k])); err != nil {
			return 0, fmt.Errorf("import study attr %s: %w", k, err)
		}
	}
	for i := range st.Trials {
		if err := importTrial(ctx, tx, studyID, &st.Trials[i]); err != nil {
			return 0, fmt.Errorf("import trial %d: %w", st.Trials[i].Number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("import study: %w", err)
	}
	return studyID, SyncDistributions(ctx, db, studyID, spec.Params)
}

func importTrial(ctx context.Context, tx *sql.Tx, studyID int, t *Trial) error {
	state, reason := t.State, t.FailReason
	if state == "RUNNING" || state == "WAITING" {
		state, reason = "FAIL", "imported from Optuna while "+t.State
	}
	var value sql.NullFloat64
	if t.Value != nil && state != "FAIL" {
		value = sql.NullFloat64{Float64: *t.Value, Valid: true}
	}
	var trialID int
	if err := tx.QueryRowContext(ctx, `INSERT INTO trials (study_id, number, state, value, started_at, finished_at, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, studyID, t.Number, state, value, nullTime(t.Start), nullTime(t.End),
		reason).Scan(&trialID); err != nil {
		return err
	}
	for _, name := range t.ParamOrder {
		p, err := ParamFromDistribution(name, t.Dists[name])
		if err != nil {
			return err
		}
		dist, ext, err := goptunaJSON(p, t.Params[name])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_params (trial_id, name, value, external, distribution)
VALUES ($1, $2, $3, $4, $5)`, trialID, name, t.Params[name], string(ext), string(dist)); err != nil {
			return err
		}
	}
	for step, v := range t.Intermediate {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_values (trial_id, step, value) VALUES ($1, $2, $3)`,
			trialID, step, v); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(t.UserAttrs) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trial_user_attrs (trial_id, key, value) VALUES ($1, $2, $3)`,
			trialID, k, attrText(t.UserAttrs[k])); err != nil {
			return err
		}
	}
	return nil
}

// goptunaJSON is what sweep's storage keeps for a param: goptuna's
// distribution JSON and the external value as jsonb (NaN as null).
func goptunaJSON(p search.Param, internal float64) (dist, ext []byte, err error) {
	d := p.Distribution()
	if dist, err = goptuna.DistributionToJSON(d); err != nil {
		return nil, nil, fmt.Errorf("encode distribution of %s: %w", p.Name, err)
	}
	x, err := goptuna.ToExternalRepresentation(d, internal)
	if err != nil {
		return nil, nil, fmt.Errorf("convert %s=%v: %w", p.Name, internal, err)
	}
	if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		x = nil
	}
	ext, err = json.Marshal(x)
	return dist, ext, err
}

// attrText is an Optuna attr (JSON) as sweep's text attr: a string is
// itself, anything else its JSON text (a number 0.812 is "0.812").
func attrText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
