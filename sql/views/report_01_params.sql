-- report_params: the parameters a study sampled, with their distribution
-- (goptuna JSON) and how many trials have them; conditional parameters have
-- fewer trials. Example:
--   SELECT name, distribution->>'name' AS kind, trials FROM report_params
--   WHERE study = 'demo' ORDER BY first_trial, name;
DROP VIEW IF EXISTS report_params CASCADE;
CREATE VIEW report_params AS
SELECT
    t.study_id                                              AS study_id,
    s.name                                                  AS study,
    p.name                                                  AS name,
    (array_agg(p.distribution ORDER BY t.number DESC))[1]   AS distribution,
    count(*)::integer                                       AS trials,
    min(t.number)                                           AS first_trial
FROM trial_params p
JOIN trials t ON t.id = p.trial_id
JOIN studies s ON s.id = t.study_id
GROUP BY t.study_id, s.name, p.name;

COMMENT ON VIEW report_params IS
'One row per (study, parameter). distribution: goptuna DistributionToJSON of the latest trial that sampled it. '
'trials: trials that sampled it. first_trial: the first trial number that did.';
