// Package optuna moves studies between sweep and Optuna's formats, so that
// Optuna's own tools (optuna.load_study, optuna-dashboard,
// trials_dataframe) read sweep's studies unchanged, and Optuna's studies
// can be continued in sweep: Optuna's distribution JSON for a spec's
// params, the read-only RDB views' connection URL, Optuna's
// JournalFileStorage log, and the import of a study from Optuna's RDB
// storage or journal.
//
// The RDB views themselves are SQL (sql/migrations/0002_optuna.sql); this
// package fills the table they read typed distributions from
// (param_distributions) and writes journal logs from the same views, so
// both exports agree. It does not run Optuna or write Optuna's storages,
// and never changes an existing sweep trial: an import adds a new study.
package optuna
