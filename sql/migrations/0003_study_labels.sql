-- 0003_study_labels: what people and stop conditions say about a study.
--
-- note and study_tags are for people (`sweep study note`, `sweep study
-- tag`); stop_reason is written by the first worker that finds one of the
-- spec's stop conditions (stop.timeout, stop.max_failed, stop.target)
-- holding, and cleared when the spec is replaced (`sweep start
-- --force-update`). Renaming a study changes only studies.name and the
-- name inside studies.spec: every other table refers to the study by id.

ALTER TABLE studies
    ADD COLUMN note        text NOT NULL DEFAULT '',
    ADD COLUMN stop_reason text NOT NULL DEFAULT '';

COMMENT ON COLUMN studies.note IS 'Free text about the study (sweep study note).';
COMMENT ON COLUMN studies.stop_reason IS
'Why a stop condition of the spec ended the study before its budget; empty when none did.';

CREATE TABLE study_tags (
    study_id integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    tag      text NOT NULL CHECK (tag <> ''),
    PRIMARY KEY (study_id, tag)
);

COMMENT ON TABLE study_tags IS 'Tags of a study (sweep study tag), for finding and grouping studies.';

-- Studies by tag.
CREATE INDEX study_tags_tag_idx ON study_tags (tag);
