-- report_trials: one row per trial, cleaned for reports: non-finite values
-- become NULL, steps is the last step reported (0 if none), test_acc is the
-- trial's user attr test_acc as a number. Every `sweep report` figure about
-- single trials reads this view. Example:
--   SELECT number, state, value, test_acc, steps, params->>'lr' AS lr
--   FROM report_trials WHERE study = 'demo' ORDER BY value DESC NULLS LAST LIMIT 10;
DROP VIEW IF EXISTS report_trials CASCADE;
CREATE VIEW report_trials AS
SELECT
    ts.study_id                                   AS study_id,
    ts.study                                      AS study,
    ts.number                                     AS number,
    ts.state                                      AS state,
    CASE WHEN ts.value IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
         THEN NULL ELSE ts.value END              AS value,
    ts.params                                     AS params,
    COALESCE(ts.last_step, 0)                     AS steps,
    COALESCE(ts.duration_s, 0)                    AS duration_s,
    ts.worker                                     AS worker,
    ts.host                                       AS host,
    ts.reason                                     AS reason,
    ts.started                                    AS started,
    ts.finished                                   AS finished,
    CASE WHEN btrim(ts.attrs->>'test_acc', ' "') ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
         THEN btrim(ts.attrs->>'test_acc', ' "')::float8 END
                                                  AS test_acc,
    (SELECT v.value FROM trial_values v WHERE v.trial_id = ts.trial_id
      ORDER BY v.step DESC LIMIT 1)               AS last_value,
    ts.attrs                                      AS attrs,
    ts.trial_id                                   AS trial_id,
    t.objective_values                            AS objective_values,
    t.constraint_violation                        AS violation,
    COALESCE(t.constraint_violation = 0, true)    AS feasible
FROM trial_summary ts
JOIN trials t ON t.id = ts.trial_id;

COMMENT ON VIEW report_trials IS
'One row per trial for reports. value: final value, NULL when unset or not finite (NaN, Inf). '
'steps: last step (epoch) reported, 0 if none. duration_s: start to finish in seconds (0 before start). '
'test_acc: user attr test_acc as a number (NULL when absent), measured for reporting only, never tuned on. '
'last_value: the intermediate value at the last step. objective_values: every metric of a multi-objective study '
'(studies.metrics order), NULL otherwise. violation: total constraint violation (NULL without constraints); '
'feasible: false when it is > 0.';
