package postgres_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"sweep/internal/pgtest"
	"sweep/sweep/postgres"
)

// TestMigrate_Concurrent opens many Storages on one empty database at once,
// as 32 workers starting together do: all succeed, each migration is
// applied once, and migrating again changes nothing.
func TestMigrate_Concurrent(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			open(t, dsn)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, err := postgres.SchemaVersion()
	if err != nil || want < 1 {
		t.Fatalf("SchemaVersion = %d, %v", want, err)
	}
	var n, newest int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &newest); err != nil {
		t.Fatal(err)
	}
	if n != want || newest != want {
		t.Errorf("schema_migrations has %d rows up to %d; want %d", n, newest, want)
	}
	var applied time.Time
	if err := db.QueryRow(`SELECT applied_at FROM schema_views`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var again time.Time
	if err := db.QueryRow(`SELECT applied_at FROM schema_views`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if !again.Equal(applied) {
		t.Errorf("unchanged views were re-applied (%v, then %v)", applied, again)
	}
	// Changed view files are re-applied: simulate by forgetting the hash.
	if _, err := db.Exec(`UPDATE schema_views SET sha256 = 'old'`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatalf("re-applying views over existing ones: %v", err)
	}
	if err := db.QueryRow(`SELECT applied_at FROM schema_views`).Scan(&again); err != nil || again.Equal(applied) {
		t.Errorf("views not re-applied after a change: %v, %v", again, err)
	}
}

// TestMigrate_NewerSchema leaves a database migrated by a newer sweep alone.
func TestMigrate_NewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	open(t, dsn)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql');
		UPDATE schema_views SET sha256 = 'future'`); err != nil {
		t.Fatal(err)
	}
	open(t, dsn)
	var hash string
	if err := db.QueryRow(`SELECT sha256 FROM schema_views`).Scan(&hash); err != nil || hash != "future" {
		t.Errorf("views of a newer schema were replaced (hash %q, %v)", hash, err)
	}
}

// TestAppliedVersion reads the schema version without migrating: 0 on an
// empty database, SchemaVersion once Open has migrated it.
func TestAppliedVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := postgres.AppliedVersion(ctx, db); err != nil || v != 0 {
		t.Fatalf("empty database: AppliedVersion = %d, %v; want 0", v, err)
	}
	var tables int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("AppliedVersion created %d tables (%v)", tables, err)
	}
	open(t, dsn)
	want, _ := postgres.SchemaVersion()
	if v, err := postgres.AppliedVersion(ctx, db); err != nil || v != want {
		t.Errorf("migrated database: AppliedVersion = %d, %v; want %d", v, err, want)
	}
}
