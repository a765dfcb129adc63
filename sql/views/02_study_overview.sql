-- study_overview: one row per study with trial counts by state and the best
-- value so far. Example:
--   SELECT study, complete, pruned, failed, running, best_value FROM study_overview;
CREATE OR REPLACE VIEW study_overview AS
SELECT
    s.name                                                    AS study,
    s.direction                                               AS direction,
    s.metric                                                  AS metric,
    s.status                                                  AS status,
    s.trial_budget                                            AS budget,
    count(t.id)::integer                                      AS trials,
    count(t.id) FILTER (WHERE t.state = 'COMPLETE')::integer  AS complete,
    count(t.id) FILTER (WHERE t.state = 'PRUNED')::integer    AS pruned,
    count(t.id) FILTER (WHERE t.state = 'FAIL')::integer      AS failed,
    count(t.id) FILTER (WHERE t.state = 'RUNNING')::integer   AS running,
    count(t.id) FILTER (WHERE t.state = 'WAITING')::integer   AS waiting,
    count(t.id) FILTER (WHERE t.retry_of IS NOT NULL)::integer AS retries,
    CASE WHEN s.direction = 'maximize'
         THEN max(t.value) FILTER (WHERE t.state = 'COMPLETE' AND t.value <> 'NaN'::double precision)
         ELSE min(t.value) FILTER (WHERE t.state = 'COMPLETE' AND t.value <> 'NaN'::double precision)
    END                                                       AS best_value,
    s.created_at                                              AS created,
    s.finished_at                                             AS finished,
    max(GREATEST(t.started_at, t.finished_at, t.heartbeat_at)) AS last_activity,
    s.id                                                      AS study_id,
    s.note                                                    AS note,
    ARRAY(SELECT g.tag FROM study_tags g WHERE g.study_id = s.id ORDER BY g.tag)
                                                              AS tags,
    s.stop_reason                                             AS stop_reason
FROM studies s
LEFT JOIN trials t ON t.study_id = s.id
GROUP BY s.id;

COMMENT ON VIEW study_overview IS
'One row per study: trial counts by state (trials counts every row, which is what the budget limits), '
'retries, and the best COMPLETE value in the study direction (NaN excluded). note and tags: what sweep study '
'note and tag set; stop_reason: why a stop condition of the spec ended the study early (empty if none did).';
