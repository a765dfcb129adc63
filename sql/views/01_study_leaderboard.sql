-- study_leaderboard: COMPLETE trials ranked best first within each study,
-- following the study's direction. NaN values are left out (they cannot be
-- ranked). Example:
--   SELECT rank, number, value, params FROM study_leaderboard
--   WHERE study = 'demo' AND rank <= 10 ORDER BY rank;
CREATE OR REPLACE VIEW study_leaderboard AS
SELECT
    ts.study                                      AS study,
    rank() OVER (PARTITION BY ts.study_id
                 ORDER BY CASE WHEN s.direction = 'maximize' THEN -ts.value ELSE ts.value END)
                                                  AS rank,
    ts.number                                     AS number,
    ts.value                                      AS value,
    s.metric                                      AS metric,
    s.direction                                   AS direction,
    ts.params                                     AS params,
    ts.steps                                      AS steps,
    ts.duration_s                                 AS duration_s,
    ts.attempt                                    AS attempt,
    ts.attrs                                      AS attrs,
    ts.study_id                                   AS study_id,
    ts.trial_id                                   AS trial_id
FROM trial_summary ts
JOIN studies s ON s.id = ts.study_id
WHERE ts.state = 'COMPLETE' AND ts.value IS NOT NULL AND ts.value <> 'NaN'::double precision;

COMMENT ON VIEW study_leaderboard IS
'COMPLETE trials ranked within their study, rank 1 = best in the study direction (ties share a rank). '
'Trials with a NaN value are excluded.';
