-- report_metrics: per-step training metrics (train_loss, val_loss, val_acc,
-- lr, img_per_s, grad_norm...) with the trial number, for the training-curve
-- plots. Example (learning rate of trial 7):
--   SELECT step, value FROM report_metrics
--   WHERE study = 'demo' AND number = 7 AND name = 'lr' ORDER BY step;
DROP VIEW IF EXISTS report_metrics CASCADE;
CREATE VIEW report_metrics AS
SELECT
    t.study_id                                    AS study_id,
    s.name                                        AS study,
    t.number                                      AS number,
    m.step                                        AS step,
    m.name                                        AS name,
    m.value                                       AS value,
    m.recorded_at                                 AS recorded_at
FROM trial_metrics m
JOIN trials t ON t.id = m.trial_id
JOIN studies s ON s.id = t.study_id
WHERE m.value NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8);

COMMENT ON VIEW report_metrics IS
'Named per-step metrics of trials (trial_metrics) with study and trial number; non-finite values left out.';
