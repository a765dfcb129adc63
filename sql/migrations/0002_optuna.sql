-- 0002_optuna: a read-only schema "optuna" that presents sweep's studies in
-- Optuna's RDB layout, so Optuna's tools (optuna.load_study,
-- optuna-dashboard, trials_dataframe) open them with no copy:
--
--   postgresql://...?options=-csearch_path%3Doptuna
--
-- The views present the schema of Optuna 3.0 and 3.1 (alembic revision
-- v3.0.0.d, version_info schema_version 12). Every view is read-only: an
-- INSTEAD OF trigger raises read_only_sql_transaction (25006), so Optuna
-- can never change sweep's data. Ids are sweep's ids where Optuna has one
-- row per sweep row; rows sweep keys by name get ids derived from their
-- trial id and their rank, which are stable because finished trials never
-- change.
--
-- Datetimes: Optuna stores naive local times; the views convert sweep's
-- timestamptz with the session's TimeZone (set it with
-- options=-ctimezone%3DEurope/Paris and so on).
--
-- The schema is made by create_optuna_schema(), called at the end. A role
-- without CREATE on the database (an external server with a restricted
-- role) cannot make a schema: the migration then only warns, so sweep
-- keeps working, and a role that may can run
-- SELECT create_optuna_schema('sweep_role') later (the argument: the role
-- to grant reading to). sweep db url --optuna and sweep export say so when it is missing.

-- param_distributions holds each param's distribution as Optuna writes it
-- (optuna.distributions.distribution_to_json), from the study's spec:
-- goptuna's JSON in trial_params loses the types of categorical choices
-- (64 is stored as "64") and has no log-integer distribution. sweep start
-- (and sweep db url --optuna, for older studies) fills it. goptuna is the
-- goptuna JSON this row stands for: a trial whose stored distribution
-- differs (the space changed with --force-update) is not matched and gets
-- the distribution derived from goptuna's JSON instead.
CREATE TABLE param_distributions (
    study_id integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    name     text NOT NULL,
    goptuna  jsonb NOT NULL,
    optuna   jsonb NOT NULL,
    PRIMARY KEY (study_id, name)
);

COMMENT ON TABLE param_distributions IS
'Optuna''s distribution JSON of each param of a study, from its spec; read by the optuna.trial_params view.';

CREATE FUNCTION create_optuna_schema(reader name DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE v text;
BEGIN
    EXECUTE $ddl$
        CREATE SCHEMA optuna;

        COMMENT ON SCHEMA optuna IS
        'Read-only views of sweep''s studies in Optuna''s RDB layout (alembic revision v3.0.0.d: Optuna 3.0, 3.1). '
        'Connect with options=-csearch_path=optuna.';

        -- The enum types SQLAlchemy creates for Optuna's Enum columns.
        CREATE TYPE optuna.studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE');
        CREATE TYPE optuna.trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING');
        CREATE TYPE optuna.trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG');
        CREATE TYPE optuna.trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN');

        -- optuna.distribution_json turns goptuna's distribution JSON into
        -- Optuna's (goptuna's names are Optuna 2's; Optuna 3 reads them too, but
        -- only the 3.x names are what Optuna itself writes).
        CREATE FUNCTION optuna.distribution_json(d jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $f$
        SELECT CASE d->>'name'
            WHEN 'UniformDistribution' THEN jsonb_build_object('name', 'FloatDistribution', 'attributes',
                jsonb_build_object('step', NULL, 'low', d#>'{attributes,low}', 'high', d#>'{attributes,high}', 'log', false))
            WHEN 'LogUniformDistribution' THEN jsonb_build_object('name', 'FloatDistribution', 'attributes',
                jsonb_build_object('step', NULL, 'low', d#>'{attributes,low}', 'high', d#>'{attributes,high}', 'log', true))
            WHEN 'DiscreteUniformDistribution' THEN jsonb_build_object('name', 'FloatDistribution', 'attributes',
                jsonb_build_object('step', d#>'{attributes,q}', 'low', d#>'{attributes,low}', 'high', d#>'{attributes,high}', 'log', false))
            WHEN 'IntUniformDistribution' THEN jsonb_build_object('name', 'IntDistribution', 'attributes',
                jsonb_build_object('log', false, 'step', 1, 'low', d#>'{attributes,low}', 'high', d#>'{attributes,high}'))
            WHEN 'StepIntUniformDistribution' THEN jsonb_build_object('name', 'IntDistribution', 'attributes',
                jsonb_build_object('log', false, 'step', d#>'{attributes,step}', 'low', d#>'{attributes,low}', 'high', d#>'{attributes,high}'))
            ELSE d
        END
        $f$;

        -- optuna.attr_json renders a sweep attr (text) as Optuna's value_json:
        -- a JSON number when the text is one (test_acc 0.8123), else a JSON string.
        CREATE FUNCTION optuna.attr_json(v text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $f$
        SELECT CASE WHEN v ~ '^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN v ELSE to_jsonb(v)::text END
        $f$;

        CREATE VIEW optuna.studies AS
        SELECT s.id AS study_id, s.name::varchar(512) AS study_name
        FROM studies s;

        CREATE VIEW optuna.study_directions AS
        SELECT s.id AS study_direction_id, upper(s.direction)::optuna.studydirection AS direction,
               s.id AS study_id, 0 AS objective
        FROM studies s;

        CREATE VIEW optuna.study_user_attributes AS
        SELECT row_number() OVER (ORDER BY a.study_id, a.key)::integer AS study_user_attribute_id,
               a.study_id, a.key::varchar(512) AS key, optuna.attr_json(a.value) AS value_json
        FROM study_user_attrs a;

        CREATE VIEW optuna.study_system_attributes AS
        SELECT row_number() OVER (ORDER BY a.study_id, a.key)::integer AS study_system_attribute_id,
               a.study_id, a.key::varchar(512) AS key, to_jsonb(a.value)::text AS value_json
        FROM study_system_attrs a;

        CREATE VIEW optuna.trials AS
        SELECT t.id AS trial_id, t.number, t.study_id, t.state::optuna.trialstate AS state,
               t.started_at::timestamp AS datetime_start, t.finished_at::timestamp AS datetime_complete
        FROM trials t;

        CREATE VIEW optuna.trial_params AS
        SELECT (p.trial_id::bigint << 20) + row_number() OVER (PARTITION BY p.trial_id ORDER BY p.name) AS param_id,
               p.trial_id, p.name::varchar(512) AS param_name, p.value AS param_value,
               COALESCE(d.optuna, optuna.distribution_json(p.distribution))::text AS distribution_json
        FROM trial_params p
        JOIN trials t ON t.id = p.trial_id
        LEFT JOIN param_distributions d ON d.study_id = t.study_id AND d.name = p.name AND d.goptuna = p.distribution;

        -- Optuna keeps a value for COMPLETE trials and, when the pruner saw one, for
        -- PRUNED trials; FAIL trials have none. It cannot store NaN.
        CREATE VIEW optuna.trial_values AS
        SELECT t.id AS trial_value_id, t.id AS trial_id, 0 AS objective,
               CASE WHEN t.value IN ('Infinity', '-Infinity') THEN NULL ELSE t.value END AS value,
               (CASE WHEN t.value = 'Infinity' THEN 'INF_POS' WHEN t.value = '-Infinity' THEN 'INF_NEG' ELSE 'FINITE' END)
                   ::optuna.trialvaluetype AS value_type
        FROM trials t
        WHERE t.state IN ('COMPLETE', 'PRUNED') AND t.value IS NOT NULL AND t.value <> 'NaN';

        CREATE VIEW optuna.trial_intermediate_values AS
        SELECT (v.trial_id::bigint << 20) + row_number() OVER (PARTITION BY v.trial_id ORDER BY v.step) AS trial_intermediate_value_id,
               v.trial_id, v.step,
               CASE WHEN v.value IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE v.value END AS intermediate_value,
               (CASE WHEN v.value = 'NaN' THEN 'NAN' WHEN v.value = 'Infinity' THEN 'INF_POS'
                     WHEN v.value = '-Infinity' THEN 'INF_NEG' ELSE 'FINITE' END)
                   ::optuna.trialintermediatevaluetype AS intermediate_value_type
        FROM trial_values v;

        CREATE VIEW optuna.trial_user_attributes AS
        SELECT (a.trial_id::bigint << 20) + row_number() OVER (PARTITION BY a.trial_id ORDER BY a.key) AS trial_user_attribute_id,
               a.trial_id, a.key::varchar(512) AS key, optuna.attr_json(a.value) AS value_json
        FROM trial_user_attrs a;

        -- sweep's system attrs as JSON strings, plus Optuna's fail_reason for
        -- failed trials (sweep's reason column).
        CREATE VIEW optuna.trial_system_attributes AS
        SELECT (x.trial_id::bigint << 20) + row_number() OVER (PARTITION BY x.trial_id ORDER BY x.key) AS trial_system_attribute_id,
               x.trial_id, x.key::varchar(512) AS key, x.value_json
        FROM (
            SELECT a.trial_id, a.key, to_jsonb(a.value)::text AS value_json FROM trial_system_attrs a
            UNION ALL
            SELECT t.id, 'fail_reason', to_jsonb(t.reason)::text FROM trials t
            WHERE t.state = 'FAIL' AND t.reason <> ''
              AND NOT EXISTS (SELECT 1 FROM trial_system_attrs a WHERE a.trial_id = t.id AND a.key = 'fail_reason')
        ) x;

        CREATE VIEW optuna.trial_heartbeats AS
        SELECT t.id AS trial_heartbeat_id, t.id AS trial_id, t.heartbeat_at::timestamp AS heartbeat
        FROM trials t
        WHERE t.state = 'RUNNING' AND t.heartbeat_at IS NOT NULL;

        CREATE VIEW optuna.version_info AS
        SELECT 1 AS version_info_id, 12 AS schema_version, '3.1.0'::varchar(256) AS library_version;

        -- Optuna 3.2 and later want revision v3.2.0.a, which only adds an index to
        -- the same tables: a client asks for it with
        -- options=-csweep.optuna_revision%3Dv3.2.0.a (a placeholder setting).
        CREATE VIEW optuna.alembic_version AS
        SELECT COALESCE(NULLIF(current_setting('sweep.optuna_revision', true), ''), 'v3.0.0.d')::varchar(32) AS version_num;

        CREATE FUNCTION optuna.read_only() RETURNS trigger
        LANGUAGE plpgsql AS $f$
        BEGIN
            RAISE EXCEPTION 'optuna.% is a read-only view of sweep''s studies', TG_TABLE_NAME
                USING ERRCODE = 'read_only_sql_transaction',
                      HINT = 'Optuna can read sweep''s studies here but not change them; run trials with sweep start or sweep worker.';
        END
        $f$;
    $ddl$;
    FOREACH v IN ARRAY ARRAY['studies', 'study_directions', 'study_user_attributes', 'study_system_attributes',
        'trials', 'trial_params', 'trial_values', 'trial_intermediate_values', 'trial_user_attributes',
        'trial_system_attributes', 'trial_heartbeats', 'version_info', 'alembic_version'] LOOP
        EXECUTE format('CREATE TRIGGER read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON optuna.%I '
                       'FOR EACH ROW EXECUTE FUNCTION optuna.read_only()', v);
        EXECUTE format('COMMENT ON VIEW optuna.%I IS %L', v,
                       'Optuna''s ' || v || ' table, read-only, over sweep''s data (see docs/sql.md)');
    END LOOP;
    IF reader IS NOT NULL THEN -- the role sweep runs as, when another role made the schema
        EXECUTE format('GRANT USAGE ON SCHEMA optuna TO %I', reader);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA optuna TO %I', reader);
    END IF;
END
$fn$;

COMMENT ON FUNCTION create_optuna_schema(name) IS
'Creates the read-only optuna schema (sql/migrations/0002_optuna.sql), granting reader (sweep''s role) read access; '
'run by the migration, or later by a role with CREATE on the database.';

DO $$
BEGIN
    PERFORM create_optuna_schema();
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'sweep: no optuna schema (%); a role with CREATE on this database can run SELECT create_optuna_schema(%L)', SQLERRM, current_user;
END
$$;
