package optuna

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/c-bata/goptuna"
	"github.com/lib/pq"

	"sweep/search"
)

// SyncDistributions records the Optuna distribution of every param of a
// study's space (conditional ones included) in param_distributions, which
// the optuna.trial_params view reads. Each row keeps the goptuna JSON it
// stands for, so trials stored under an older space (before
// --force-update) keep the distribution derived from their own row. It
// replaces the study's rows in one transaction and is safe to repeat.
func SyncDistributions(ctx context.Context, db *sql.DB, studyID int, space []search.Param) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sync distributions: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM param_distributions WHERE study_id = $1`, studyID); err != nil {
		return fmt.Errorf("sync distributions: %w", err)
	}
	for _, p := range Params(space) {
		g, err := goptuna.DistributionToJSON(p.Distribution())
		if err != nil {
			return fmt.Errorf("sync distribution of %s: %w", p.Name, err)
		}
		o, err := Distribution(p)
		if err != nil {
			return fmt.Errorf("sync distributions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO param_distributions (study_id, name, goptuna, optuna)
VALUES ($1, $2, $3, $4)`, studyID, p.Name, string(g), string(o)); err != nil {
			return fmt.Errorf("sync distribution of %s: %w", p.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sync distributions: %w", err)
	}
	return nil
}

// SyncAll fills param_distributions for every study that has no rows yet
// (studies made before the optuna views existed), from its stored spec.
// A study whose spec no longer parses is skipped: the views then derive
// its distributions from goptuna's JSON (categorical choices as strings).
// It returns the names of the skipped studies.
func SyncAll(ctx context.Context, db *sql.DB) (skipped []string, err error) {
	rows, err := db.QueryContext(ctx, `SELECT s.id, s.name, s.spec FROM studies s
WHERE NOT EXISTS (SELECT 1 FROM param_distributions d WHERE d.study_id = s.id) ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("list studies to sync: %w", err)
	}
	type study struct {
		id         int
		name, spec string
	}
	var todo []study
	for rows.Next() {
		var s study
		if err := rows.Scan(&s.id, &s.name, &s.spec); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list studies to sync: %w", err)
		}
		todo = append(todo, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list studies to sync: %w", err)
	}
	for _, s := range todo {
		spec, err := search.ParseSpec("stored spec of "+s.name, []byte(s.spec))
		if err != nil {
			skipped = append(skipped, s.name)
			continue
		}
		if err := SyncDistributions(ctx, db, s.id, spec.Params); err != nil {
			return skipped, fmt.Errorf("study %s: %w", s.name, err)
		}
	}
	return skipped, nil
}

// ErrNoSchema means this role cannot read an optuna schema: sweep's role
// could not create it when it migrated (no CREATE privilege on the
// database), or another role made it without granting read access.
var ErrNoSchema = errors.New("optuna: no optuna schema this role can read")

// CheckSchema returns ErrNoSchema, with the statement that fixes it, when
// the optuna views are missing or unreadable.
func CheckSchema(ctx context.Context, db *sql.DB) error {
	var ok bool
	var user string
	if err := db.QueryRowContext(ctx, `SELECT CASE WHEN to_regnamespace('optuna') IS NULL THEN false
	ELSE has_schema_privilege('optuna', 'USAGE') END, current_user`).Scan(&ok, &user); err != nil {
		return fmt.Errorf("check optuna schema: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: a role with CREATE on the database (its owner) can run SELECT create_optuna_schema(%s)",
			ErrNoSchema, pq.QuoteLiteral(user))
	}
	return nil
}
