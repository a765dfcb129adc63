-- report_study_summary: the numbers in the Summary table of `sweep report`.
-- Compute is counted over finished trials (COMPLETE, PRUNED, FAIL). A
-- trial "run to the end" uses full_steps steps: the most any COMPLETE
-- trial reported. A PRUNED trial would have needed full_steps steps and,
-- at its own pace, duration_s * full_steps / steps seconds. Example:
--   SELECT study, trials, pruned, steps_used, steps_full,
--          round(100 * steps_saved_share) AS saved_pct
--   FROM report_study_summary WHERE study = 'demo';
DROP VIEW IF EXISTS report_study_summary CASCADE;
CREATE VIEW report_study_summary AS
WITH budget AS (
    SELECT study_id,
           COALESCE(max(steps) FILTER (WHERE state = 'COMPLETE'), max(steps), 0) AS full_steps
    FROM report_trials GROUP BY study_id
), finished AS (
    SELECT rt.study_id,
           sum(rt.steps)::integer                                   AS steps_used,
           sum(CASE WHEN rt.state = 'PRUNED' THEN GREATEST(rt.steps, b.full_steps)
                    ELSE rt.steps END)::integer                     AS steps_full,
           sum(rt.duration_s)                                       AS wall_used_s,
           sum(CASE WHEN rt.state = 'PRUNED' AND rt.steps > 0
                    THEN rt.duration_s * GREATEST(rt.steps, b.full_steps) / rt.steps
                    ELSE rt.duration_s END)                         AS wall_full_s
    FROM report_trials rt JOIN budget b USING (study_id)
    WHERE rt.state IN ('COMPLETE', 'PRUNED', 'FAIL')
    GROUP BY rt.study_id
), seen AS (
    SELECT study_id,
           count(DISTINCT worker) FILTER (WHERE worker <> '')::integer AS workers,
           count(DISTINCT host) FILTER (WHERE host <> '')::integer     AS hosts,
           COALESCE(string_agg(DISTINCT worker, ', ' ORDER BY worker) FILTER (WHERE worker <> ''), '')
                                                                       AS worker_names
    FROM (SELECT study_id, worker_id AS worker, COALESCE(host, '') AS host FROM trials
          UNION SELECT study_id, worker_id, host FROM study_workers) w
    GROUP BY study_id
), span AS (
    SELECT study_id, min(started_at) AS started_at,
           max(GREATEST(started_at, finished_at, heartbeat_at)) AS last_at
    FROM trials GROUP BY study_id
), best AS (
    SELECT DISTINCT ON (study_id) study_id, number AS best_number, value AS best_value
    FROM study_leaderboard ORDER BY study_id, rank, number
)
SELECT
    o.study_id                                              AS study_id,
    o.study                                                 AS study,
    o.direction                                             AS direction,
    o.metric                                                AS metric,
    o.trials, o.complete, o.pruned, o.failed, o.running, o.waiting,
    COALESCE(b.full_steps, 0)                               AS full_steps,
    COALESCE(f.steps_used, 0)                               AS steps_used,
    COALESCE(f.steps_full, 0)                               AS steps_full,
    COALESCE(1 - f.steps_used::float8 / NULLIF(f.steps_full, 0), 0)   AS steps_saved_share,
    COALESCE(f.wall_used_s, 0)                              AS wall_used_s,
    COALESCE(f.wall_full_s, 0)                              AS wall_full_s,
    COALESCE(1 - f.wall_used_s / NULLIF(f.wall_full_s, 0), 0)         AS wall_saved_share,
    sp.started_at                                           AS started_at,
    COALESCE(EXTRACT(EPOCH FROM (sp.last_at - sp.started_at))::float8, 0) AS elapsed_s,
    COALESCE(se.workers, 0)                                 AS workers,
    COALESCE(se.hosts, 0)                                   AS hosts,
    COALESCE(se.worker_names, '')                           AS worker_names,
    bt.best_number                                          AS best_number,
    bt.best_value                                           AS best_value
FROM study_overview o
LEFT JOIN budget b ON b.study_id = o.study_id
LEFT JOIN finished f ON f.study_id = o.study_id
LEFT JOIN seen se ON se.study_id = o.study_id
LEFT JOIN span sp ON sp.study_id = o.study_id
LEFT JOIN best bt ON bt.study_id = o.study_id;

COMMENT ON VIEW report_study_summary IS
'One row per study: trials by state; compute of finished trials in steps (epochs) and trial seconds, '
'as used and as it would have been had every PRUNED trial run to full_steps (the most steps of any COMPLETE trial), '
'and the share pruning saved; elapsed_s from the first trial start to the last activity; workers and hosts seen '
'(trials and study_workers); the best COMPLETE trial.';
