package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/lib/pq"

	schema "sweep/sql"
)

// migrationLock is the pg_advisory_xact_lock key every sweep process takes
// before looking at the schema ("sweep" in ASCII), so that 32 workers
// starting at once migrate exactly once and never see a half-made schema.
const migrationLock int64 = 0x7377656570

// SchemaVersion is the number of the newest migration this build knows.
func SchemaVersion() (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 {
		return 0, nil
	}
	return ms[len(ms)-1].version, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql in version order.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(schema.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("read migrations: %s: name must be NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("read migrations: %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(schema.Migrations, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

type viewFile struct {
	name string
	sql  string
}

// loadViews reads views/*.sql in lexical order and hashes them together.
func loadViews() ([]viewFile, string, error) {
	entries, err := fs.ReadDir(schema.Views, "views")
	if err != nil {
		return nil, "", fmt.Errorf("read views: %w", err)
	}
	h := sha256.New()
	var vs []viewFile
	for _, e := range entries { // fs.ReadDir sorts by name
		b, err := fs.ReadFile(schema.Views, path.Join("views", e.Name()))
		if err != nil {
			return nil, "", fmt.Errorf("read view %s: %w", e.Name(), err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
		vs = append(vs, viewFile{name: e.Name(), sql: string(b)})
	}
	return vs, hex.EncodeToString(h.Sum(nil)), nil
}

// Migrate brings the database's schema up to date: it applies the
// migrations not yet recorded in schema_migrations, then re-applies the
// view files when their combined hash differs from the one recorded in
// schema_views. Everything happens in one transaction holding an advisory
// lock, so concurrent callers wait for the first and then find nothing to
// do, and a failure leaves the schema as it was.
//
// A database migrated by a newer sweep (a version this build does not
// know) is left alone, views included, so an old worker cannot downgrade
// them; migrations are additive, so old code keeps working on it.
func Migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	views, viewHash, err := loadViews()
	if err != nil {
		return err
	}
	if upToDate(ctx, db, ms, viewHash) {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		);
		CREATE TABLE IF NOT EXISTS schema_views (
			singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
			sha256     text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	if int(newest.Int64) > known {
		return tx.Commit() // newer schema: leave it to the newer sweep
	}
	if err := applyMigrations(ctx, tx, ms); err != nil {
		return err
	}
	if err := applyViews(ctx, tx, views, viewHash); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit schema: %w", err)
	}
	return nil
}

// upToDate reports, without the migration lock, whether every migration
// of this build is applied and the views are this build's: the usual case,
// in which hundreds of workers starting at once must not queue one by one
// on the lock. Any doubt (an error, a missing table) says no, and Migrate
// takes the lock and looks again.
func upToDate(ctx context.Context, db *sql.DB, ms []migration, viewHash string) bool {
	var applied, newest int
	var stored sql.NullString
	err := db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM schema_migrations WHERE version = ANY($1)),
		       (SELECT COALESCE(max(version), 0) FROM schema_migrations),
		       (SELECT sha256 FROM schema_views)`, pq.Array(versions(ms))).Scan(&applied, &newest, &stored)
	if err != nil {
		return false
	}
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	return applied == len(ms) && (newest > known || stored.String == viewHash)
}

// versions lists the migrations' version numbers.
func versions(ms []migration) []int64 {
	v := make([]int64, len(ms))
	for i, m := range ms {
		v[i] = int64(m.version)
	}
	return v
}

func applyMigrations(ctx context.Context, tx *sql.Tx, ms []migration) error {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		// No parameters: lib/pq sends it as a simple query, so a file may
		// hold many statements.
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	return nil
}

// applyViews re-runs every view file in order when any of them changed.
// Skipping unchanged views matters: CREATE OR REPLACE VIEW takes an
// exclusive lock on the view, which would stall report queries each time
// a worker starts.
func applyViews(ctx context.Context, tx *sql.Tx, views []viewFile, hash string) error {
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT sha256 FROM schema_views`).Scan(&stored)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("read schema_views: %w", err)
	}
	if stored == hash {
		return nil
	}
	for _, v := range views {
		if _, err := tx.ExecContext(ctx, v.sql); err != nil {
			return fmt.Errorf("apply view %s: %w", v.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO schema_views (singleton, sha256) VALUES (true, $1)
		ON CONFLICT (singleton) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()`, hash); err != nil {
		return fmt.Errorf("record views: %w", err)
	}
	return nil
}

// AppliedVersion is the newest migration recorded in db, 0 when sweep's
// schema was never applied there. Unlike Migrate it changes nothing, so
// sweep doctor can compare it with SchemaVersion.
func AppliedVersion(ctx context.Context, db *sql.DB) (int, error) {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}
