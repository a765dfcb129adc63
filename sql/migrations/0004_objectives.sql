-- 0004_objectives: multi-objective studies and constraints.
--
-- A study with `directions:` and `metrics:` in its spec optimises several
-- metrics; studies.metrics and studies.directions list them in spec order
-- (NULL for a single-objective study, which keeps using direction and
-- metric alone). Each of its trials keeps all its values in
-- trials.objective_values, in the same order, while trials.value stays
-- the study's primary metric (the first, or prune_metric), so every
-- single-objective reader (the leaderboard, stop.target, Optuna's first
-- objective) keeps working unchanged.
--
-- A spec's `constraints:` are kept per trial as constraint_values (one per
-- constraint, in spec order, Optuna's convention: <= 0 means satisfied,
-- NaN a metric that was not reported) and their total
-- constraint_violation (the sum of the positive parts, Infinity when a
-- value is NaN). Infeasible trials (violation > 0) stay COMPLETE: they are
-- marked, never dropped. Both are NULL when the spec has no constraints.
--
-- Existing rows are untouched: every new column is NULL for them.

ALTER TABLE studies
    ADD COLUMN metrics    text[],
    ADD COLUMN directions text[],
    ADD CONSTRAINT studies_objectives_check CHECK (
        (metrics IS NULL) = (directions IS NULL)
        AND (metrics IS NULL OR cardinality(metrics) = cardinality(directions))
        AND (directions IS NULL OR directions <@ ARRAY['maximize', 'minimize']));

COMMENT ON COLUMN studies.metrics IS
'Multi-objective study: its metrics in spec order (directions gives their senses); NULL for one metric (see metric).';
COMMENT ON COLUMN studies.directions IS
'Multi-objective study: maximize or minimize per entry of metrics; NULL for one metric (see direction).';

ALTER TABLE trials
    ADD COLUMN objective_values     double precision[],
    ADD COLUMN constraint_values    double precision[],
    ADD COLUMN constraint_violation double precision CHECK (constraint_violation >= 0);

COMMENT ON COLUMN trials.objective_values IS
'Multi-objective trial: one value per entry of studies.metrics; value holds the primary one. NULL otherwise.';
COMMENT ON COLUMN trials.constraint_values IS
'One value per constraint of the spec, <= 0 when it holds (Optuna''s convention); NULL without constraints.';
COMMENT ON COLUMN trials.constraint_violation IS
'Sum of the positive constraint_values (Infinity when one is NaN): 0 = feasible; NULL without constraints.';

-- The Optuna views show every objective (Optuna's study_directions and
-- trial_values have one row per objective). Objective 0 keeps the ids it
-- had; the others get negative ids derived from the row's id, unique and
-- stable. Only where the optuna schema exists (see 0002_optuna.sql).
CREATE FUNCTION optuna_objective_views() RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'optuna') THEN
        RETURN;
    END IF;
    EXECUTE $ddl$
        CREATE OR REPLACE VIEW optuna.study_directions AS
        SELECT CASE WHEN d.objective = 0 THEN s.id ELSE -(s.id * 8 + d.objective) END AS study_direction_id,
               upper(d.direction)::optuna.studydirection AS direction,
               s.id AS study_id, d.objective
        FROM studies s
        CROSS JOIN LATERAL (
            SELECT o.direction, (o.n - 1)::integer AS objective
            FROM unnest(COALESCE(s.directions, ARRAY[s.direction])) WITH ORDINALITY AS o (direction, n)
        ) d;

        CREATE OR REPLACE VIEW optuna.trial_values AS
        SELECT CASE WHEN v.objective = 0 THEN t.id ELSE -(t.id * 8 + v.objective) END AS trial_value_id,
               t.id AS trial_id, v.objective,
               CASE WHEN v.value IN ('Infinity', '-Infinity') THEN NULL ELSE v.value END AS value,
               (CASE WHEN v.value = 'Infinity' THEN 'INF_POS' WHEN v.value = '-Infinity' THEN 'INF_NEG' ELSE 'FINITE' END)
                   ::optuna.trialvaluetype AS value_type
        FROM trials t
        CROSS JOIN LATERAL (
            SELECT o.value, (o.n - 1)::integer AS objective
            FROM unnest(CASE WHEN t.state = 'COMPLETE' AND t.objective_values IS NOT NULL
                             THEN t.objective_values ELSE ARRAY[t.value] END) WITH ORDINALITY AS o (value, n)
        ) v
        WHERE t.state IN ('COMPLETE', 'PRUNED') AND v.value IS NOT NULL AND v.value <> 'NaN';
    $ddl$;
END
$fn$;

COMMENT ON FUNCTION optuna_objective_views() IS
'Shows every objective of multi-objective studies in optuna.study_directions and optuna.trial_values; '
'run by migration 0004 and by create_optuna_schema().';

-- A role that could not make the optuna schema at migration time has it
-- made later with create_optuna_schema() (see 0002): that now also shows
-- every objective. The 0002 function keeps its body under a new name.
ALTER FUNCTION create_optuna_schema(name) RENAME TO create_optuna_schema_0002;

CREATE FUNCTION create_optuna_schema(reader name DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
BEGIN
    PERFORM create_optuna_schema_0002(reader);
    PERFORM optuna_objective_views();
END
$fn$;

COMMENT ON FUNCTION create_optuna_schema(name) IS
'Creates the read-only optuna schema (sql/migrations/0002_optuna.sql, with the objectives of 0004), granting reader '
'(sweep''s role) read access; run by the migration, or later by a role with CREATE on the database.';

SELECT optuna_objective_views();
