-- report_objectives: one row per finished trial and objective, for the
-- Pareto front, the trade-off pick and the hypervolume curve of `sweep
-- report --pareto`. A single-objective study has one objective (0): its
-- metric and value. Non-finite values become NULL. Example (the values of
-- trial 7):
--   SELECT objective, metric, direction, value FROM report_objectives
--   WHERE study = 'demo' AND number = 7 ORDER BY objective;
DROP VIEW IF EXISTS report_objectives CASCADE;
CREATE VIEW report_objectives AS
SELECT
    t.study_id                                    AS study_id,
    s.name                                        AS study,
    t.number                                      AS number,
    t.state                                       AS state,
    o.objective                                   AS objective,
    COALESCE(s.metrics[o.objective + 1], s.metric)
                                                  AS metric,
    COALESCE(s.directions[o.objective + 1], s.direction)
                                                  AS direction,
    CASE WHEN o.value IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
         THEN NULL ELSE o.value END               AS value,
    t.constraint_violation                        AS violation,
    COALESCE(t.constraint_violation = 0, true)    AS feasible
FROM trials t
JOIN studies s ON s.id = t.study_id
CROSS JOIN LATERAL (
    SELECT u.value, (u.n - 1)::integer AS objective
    FROM unnest(COALESCE(t.objective_values, ARRAY[t.value])) WITH ORDINALITY AS u (value, n)
) o
WHERE t.state IN ('COMPLETE', 'PRUNED', 'FAIL');

COMMENT ON VIEW report_objectives IS
'One row per finished trial and objective (0-based, in studies.metrics order; objective 0 = the value for a '
'single-objective study). value: NULL when unset or not finite. violation: total constraint violation (NULL '
'without constraints); feasible: false when it is > 0.';
