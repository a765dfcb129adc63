-- report_curves: every finite intermediate value with the seconds from the
-- trial's start to its report: learning curves and convergence speed.
-- Epochs and minutes to reach a value X (here 0.9, maximize) per trial:
--   SELECT number, min(step) AS epochs, min(elapsed_s) / 60 AS minutes
--   FROM report_curves WHERE study = 'demo' AND value >= 0.9 GROUP BY number;
DROP VIEW IF EXISTS report_curves CASCADE;
CREATE VIEW report_curves AS
SELECT
    t.study_id                                    AS study_id,
    s.name                                        AS study,
    t.number                                      AS number,
    t.state                                       AS state,
    v.step                                        AS step,
    v.value                                       AS value,
    EXTRACT(EPOCH FROM (v.recorded_at - t.started_at))::float8 AS elapsed_s
FROM trial_values v
JOIN trials t ON t.id = v.trial_id
JOIN studies s ON s.id = t.study_id
WHERE v.value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8);

COMMENT ON VIEW report_curves IS
'Intermediate values (the study metric per step/epoch) of every trial, non-finite ones left out. '
'elapsed_s: seconds from the trial start to the report (NULL if the trial has no start time).';
