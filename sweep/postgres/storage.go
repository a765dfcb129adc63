// Package postgres stores studies and trials in PostgreSQL: Storage
// implements goptuna.Storage and sweep.Store with sqlx and lib/pq, each
// query next to the method that runs it. Open applies sweep's schema
// (package sweep/sql) first.
//
// It does not decide anything about a study (sampling, pruning, retries
// are package sweep's and search's); it makes the database the single
// source of truth that many worker processes share safely.
//
// # Rules the database enforces
//
// Trial numbers are 0, 1, 2... within a study, unique and contiguous: every
// trial creation takes the next number from the study row with
// UPDATE ... RETURNING, which also serialises creators, in the same
// transaction as the INSERT.
//
// The budget (studies.trial_budget, the spec's `trials`) counts every trial
// row the study has, whatever its state: COMPLETE, PRUNED, FAIL (stale and
// interrupted trials included), RUNNING and WAITING. A retry is a new trial
// (a new number, retry_of pointing at the original) and so takes one unit of
// budget; when the budget is spent no retry is created (RetryTrial returns
// sweep.ErrBudgetExhausted). So `trials: 200` means at most 200 runs of the
// objective, numbered 0..199, however many of them failed. WAITING trials
// already created are claimed even after the budget is spent.
//
// A trial in COMPLETE, PRUNED or FAIL never changes again: every write
// (state, value, params, intermediate values, metrics, attrs) checks the
// state in the same statement, under a row lock, and fails with an error
// wrapping sweep.ErrTrialFinished (and goptuna.ErrTrialCannotBeUpdated).
// That immutability is what lets each Storage cache finished trials.
//
// # Context and timeouts
//
// goptuna.Storage methods take no context; Storage runs each of them under
// context.Background with Options.CallTimeout (default 30 s), so a dead
// database turns into an error instead of a hung trial. sweep.Store
// methods use the caller's ctx.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/c-bata/goptuna"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"sweep/sweep"
)

var (
	_ goptuna.Storage          = (*Storage)(nil)
	_ sweep.Store              = (*Storage)(nil)
	_ sweep.UnretriedLister    = (*Storage)(nil)
	_ sweep.LateResultRecorder = (*Storage)(nil)
)

// DefaultMaxOpenConns bounds each Storage's connections, the heartbeat's
// own connection included: one for heartbeats, one for everything else.
// PostgreSQL's default max_connections is 100 with 3 reserved for
// superusers, so 48 worker processes fit directly; hundreds fit through
// PgBouncer in transaction pooling mode (see Open). A worker with many
// slots may raise it (sweep worker --max-conns); queries are short, so
// slots rarely wait on one.
const DefaultMaxOpenConns = 2

// DefaultCallTimeout bounds each goptuna.Storage call.
const DefaultCallTimeout = 30 * time.Second

// Options tunes a Storage. Zero values mean the defaults.
type Options struct {
	// MaxOpenConns bounds the connections (DefaultMaxOpenConns): one is
	// kept for heartbeats, the rest pool for everything else (at least 1).
	MaxOpenConns int
	// CallTimeout bounds each goptuna.Storage method (DefaultCallTimeout).
	CallTimeout time.Duration
}

// Storage is a study store in one PostgreSQL database. It is safe for
// concurrent use by many goroutines, and many processes may each open one
// on the same database. Returned trials and maps are copies.
type Storage struct {
	db *sqlx.DB
	// beat is a one-connection pool of its own for Heartbeat and
	// ReapStale, so that liveness never queues behind the slots' queries.
	beat    *sqlx.DB
	timeout time.Duration
	cache   *trialCache
}

// Open connects to dsn with default options and migrates the schema.
func Open(ctx context.Context, dsn string) (*Storage, error) {
	return OpenOptions(ctx, dsn, Options{})
}

// OpenOptions connects to dsn and migrates the schema (see Migrate). Its
// errors never show a password that dsn holds.
//
// Every statement works through PgBouncer in transaction pooling mode,
// where consecutive transactions of one client may run on different
// server connections: Storage keeps no session state (the migration lock is
// pg_advisory_xact_lock, settings are never SET), and lib/pq runs with
// binary_parameters, which sends a parameterised statement's Parse, Bind
// and Execute in one round trip ending in one Sync. Without it, lib/pq
// parses the unnamed statement, syncs, and binds it in a second exchange,
// which the pooler may route to another server connection.
func OpenOptions(ctx context.Context, dsn string, opts Options) (*Storage, error) {
	s, err := openOptions(ctx, dsn, opts)
	return s, redactErr(err, dsn)
}

func openOptions(ctx context.Context, dsn string, opts Options) (*Storage, error) {
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = DefaultMaxOpenConns
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	db, err := openPool(dsn)
	if err != nil {
		return nil, err
	}
	setPool(db, max(1, opts.MaxOpenConns-1))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := Migrate(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	beat, err := openPool(dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	setPool(beat, 1)
	return &Storage{db: db, beat: beat, timeout: opts.CallTimeout, cache: newTrialCache()}, nil
}

// openPool opens a pool on dsn with lib/pq's binary_parameters on (see
// OpenOptions). No []byte is passed as a parameter, so nothing else changes.
func openPool(dsn string) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cfg.BinaryParameters = true
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return sqlx.NewDb(sql.OpenDB(conn), "postgres"), nil
}

// setPool bounds a pool to n connections.
func setPool(db *sqlx.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Recycle connections before NATs and firewalls drop idle ones, so a
	// trial that reports once an hour does not meet a dead socket.
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
}

// Close closes the connection pools.
func (s *Storage) Close() error { return errors.Join(s.db.Close(), s.beat.Close()) }

// DB returns the underlying pool, for read-only queries such as reports.
func (s *Storage) DB() *sqlx.DB { return s.db }

// call returns the context for a goptuna.Storage method.
func (s *Storage) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Trial states as stored in trials.state.
const (
	stateWaiting  = "WAITING"
	stateRunning  = "RUNNING"
	stateComplete = "COMPLETE"
	statePruned   = "PRUNED"
	stateFail     = "FAIL"
)

func stateName(st goptuna.TrialState) (string, error) {
	switch st {
	case goptuna.TrialStateWaiting:
		return stateWaiting, nil
	case goptuna.TrialStateRunning:
		return stateRunning, nil
	case goptuna.TrialStateComplete:
		return stateComplete, nil
	case goptuna.TrialStatePruned:
		return statePruned, nil
	case goptuna.TrialStateFail:
		return stateFail, nil
	}
	return "", fmt.Errorf("postgres: unknown trial state %d", int(st))
}

func parseState(s string) (goptuna.TrialState, error) {
	switch s {
	case stateWaiting:
		return goptuna.TrialStateWaiting, nil
	case stateRunning:
		return goptuna.TrialStateRunning, nil
	case stateComplete:
		return goptuna.TrialStateComplete, nil
	case statePruned:
		return goptuna.TrialStatePruned, nil
	case stateFail:
		return goptuna.TrialStateFail, nil
	}
	return 0, fmt.Errorf("postgres: unknown trial state %q in database", s)
}

// errFinished is wrapped by every rejected write to a finished trial. It
// matches both sweep.ErrTrialFinished and goptuna.ErrTrialCannotBeUpdated.
var errFinished = fmt.Errorf("%w: %w", sweep.ErrTrialFinished, goptuna.ErrTrialCannotBeUpdated)

// trialStateError explains why a compare-and-set on trial id matched no
// row: the trial does not exist, is finished, or is in another live state.
func (s *Storage) trialStateError(ctx context.Context, op string, id int) error {
	var state, reason string
	err := s.db.QueryRowxContext(ctx, `SELECT state, reason FROM trials WHERE id = $1`, id).Scan(&state, &reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %d: %w", op, id, goptuna.ErrInvalidTrialID)
	case err != nil:
		return fmt.Errorf("%s %d: %w", op, id, err)
	case state == stateComplete || state == statePruned || state == stateFail:
		if reason != "" {
			return fmt.Errorf("%s %d: %w (%s: %s)", op, id, errFinished, state, reason)
		}
		return fmt.Errorf("%s %d: %w (%s)", op, id, errFinished, state)
	default:
		return fmt.Errorf("%s %d: trial is %s: %w", op, id, state, goptuna.ErrTrialCannotBeUpdated)
	}
}

// pqCode returns the SQLSTATE of a PostgreSQL error, "" for others.
func pqCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}

const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)
