// Package optuna presents sweep's studies in Optuna's formats, so that
// Optuna's own tools (optuna.load_study, optuna-dashboard,
// trials_dataframe) read them unchanged: Optuna's distribution JSON for a
// spec's params, the read-only RDB views' connection URL, and Optuna's
// JournalFileStorage log.
//
// The RDB views themselves are SQL (sql/migrations/0002_optuna.sql); this
// package fills the table they read typed distributions from
// (param_distributions) and writes journal logs from the same views, so
// both exports agree. It does not run Optuna, write Optuna's databases, or
// change any of sweep's trials.
package optuna
