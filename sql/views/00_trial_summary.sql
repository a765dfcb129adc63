-- trial_summary: one row per trial with its parameters as jsonb, for people
-- and for reports. Example:
--   SELECT number, value, params->>'lr' AS lr FROM trial_summary
--   WHERE study = 'demo' AND state = 'COMPLETE' ORDER BY value DESC;
CREATE OR REPLACE VIEW trial_summary AS
SELECT
    s.name                                        AS study,
    t.number                                      AS number,
    t.state                                       AS state,
    t.value                                       AS value,
    COALESCE((SELECT jsonb_object_agg(p.name, p.external)
              FROM trial_params p WHERE p.trial_id = t.id), '{}'::jsonb)
                                                  AS params,
    (SELECT count(*)::integer FROM trial_values v WHERE v.trial_id = t.id)
                                                  AS steps,
    EXTRACT(EPOCH FROM (COALESCE(t.finished_at, now()) - t.started_at))::double precision
                                                  AS duration_s,
    t.reason                                      AS reason,
    t.worker_id                                   AS worker,
    t.host                                        AS host,
    t.started_at                                  AS started,
    t.finished_at                                 AS finished,
    t.heartbeat_at                                AS heartbeat,
    t.attempt                                     AS attempt,
    r.number                                      AS retry_of,
    (SELECT max(v.step) FROM trial_values v WHERE v.trial_id = t.id)
                                                  AS last_step,
    COALESCE((SELECT jsonb_object_agg(a.key, a.value)
              FROM trial_user_attrs a WHERE a.trial_id = t.id), '{}'::jsonb)
                                                  AS attrs,
    t.study_id                                    AS study_id,
    t.id                                          AS trial_id
FROM trials t
JOIN studies s ON s.id = t.study_id
LEFT JOIN trials r ON r.id = t.retry_of;

COMMENT ON VIEW trial_summary IS
'One row per trial. params: name -> value as the objective saw it (categorical values are strings). '
'steps: number of intermediate values reported; last_step: the highest step reported. '
'duration_s: seconds from start to finish (to now while running; NULL before start). '
'reason: why it ended (stale, interrupted, an error). retry_of: number of the trial this one re-runs; '
'attempt: 0 for an original trial. attrs: user attrs (e.g. test accuracy).';
