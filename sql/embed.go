// Package schema embeds sweep's PostgreSQL schema: numbered migrations and
// the views people query. Import it as `schema` so it never shadows
// database/sql.
//
// The package holds only .sql files and this one; it does not apply them.
// sweep/postgres.Migrate does, under a PostgreSQL advisory lock, so many
// workers starting at once migrate exactly once.
//
// Layout and rules:
//
//   - migrations/NNNN_name.sql: applied once each, in numeric order, and
//     recorded in schema_migrations. A released migration is never edited;
//     change the schema with a new file.
//   - views/*.sql: re-applied, in lexical file-name order, whenever any view
//     file changes (their combined hash is kept in schema_views). Each file
//     must be idempotent (CREATE OR REPLACE VIEW, COMMENT ON VIEW). A view may
//     depend on views in files that sort before it; sweep's own files start
//     with two digits (00_, 01_...) so that report_*.sql files, which belong
//     to package reports, come after them and can build on them.
//     CREATE OR REPLACE VIEW can only append columns; a file that must change
//     a column drops the view first (DROP VIEW IF EXISTS v CASCADE), and the
//     dependants are recreated because every file is re-applied.
package schema

import "embed"

// Migrations holds migrations/*.sql.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// Views holds views/*.sql.
//
//go:embed views/*.sql
var Views embed.FS
