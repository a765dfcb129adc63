-- report_history: finished trials in trial-number order with the best
-- COMPLETE value among the first n (best-so-far), the optimisation history
-- plot and the two-study comparison. PRUNED trials without a final value
-- show their last intermediate value. Example (best after 50 trials):
--   SELECT best_so_far FROM report_history WHERE study = 'demo' AND n = 50;
DROP VIEW IF EXISTS report_history CASCADE;
CREATE VIEW report_history AS
SELECT
    rt.study_id                                   AS study_id,
    rt.study                                      AS study,
    row_number() OVER w                           AS n,
    rt.number                                     AS number,
    rt.state                                      AS state,
    CASE WHEN rt.state = 'PRUNED' THEN COALESCE(rt.value, rt.last_value)
         ELSE rt.value END                        AS value,
    CASE WHEN s.direction = 'maximize'
         THEN max(rt.value) FILTER (WHERE rt.state = 'COMPLETE') OVER w
         ELSE min(rt.value) FILTER (WHERE rt.state = 'COMPLETE') OVER w
    END                                           AS best_so_far
FROM report_trials rt
JOIN studies s ON s.id = rt.study_id
WHERE rt.state IN ('COMPLETE', 'PRUNED', 'FAIL')
WINDOW w AS (PARTITION BY rt.study_id ORDER BY rt.number
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

COMMENT ON VIEW report_history IS
'Finished trials by number. n: 1-based count of finished trials so far; best_so_far: best COMPLETE value '
'among the first n in the study direction (NULL until one completes). value: final value, or for PRUNED '
'trials without one the last intermediate value.';
