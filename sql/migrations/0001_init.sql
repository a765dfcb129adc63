-- 0001_init: studies, trials and everything recorded about a trial.
--
-- Conventions: ids are integer (goptuna uses Go int); times are timestamptz
-- taken from the database clock (now()), so heartbeats and stale checks from
-- many machines agree; trial values are double precision, which stores NaN
-- and ±Infinity exactly.

CREATE TABLE studies (
    id           serial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    direction    text NOT NULL DEFAULT 'minimize'
                 CHECK (direction IN ('minimize', 'maximize')),
    metric       text NOT NULL DEFAULT '',
    -- The spec file exactly as the user gave it (YAML).
    spec         text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'finished')),
    -- Total number of trials the study may create, counted over every
    -- trial row whatever its state (retries included). NULL: unlimited.
    trial_budget integer CHECK (trial_budget IS NULL OR trial_budget >= 0),
    -- Next trial number. Trial creation takes it with UPDATE ... RETURNING,
    -- which serialises creators on this row: numbers are contiguous and the
    -- budget check cannot race.
    next_number  integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

COMMENT ON TABLE studies IS 'One row per study (sweep). trial_budget counts every trial row, failed and retried ones included.';

CREATE TABLE trials (
    id           serial PRIMARY KEY,
    study_id     integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    -- 0, 1, 2... within the study, contiguous, in creation order.
    number       integer NOT NULL,
    state        text NOT NULL
                 CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
    -- Final objective value; NULL until set. NaN and ±Infinity allowed.
    value        double precision,
    worker_id    text,
    host         text,
    started_at   timestamptz,
    finished_at  timestamptz,
    heartbeat_at timestamptz,
    -- Why the trial ended the way it did: 'stale', 'interrupted', an error.
    reason       text NOT NULL DEFAULT '',
    -- The trial this one re-runs, and which attempt it is (0 = original).
    retry_of     integer REFERENCES trials (id) ON DELETE SET NULL,
    attempt      integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (study_id, number)
);

COMMENT ON TABLE trials IS 'One row per trial. A trial in COMPLETE, PRUNED or FAIL never changes again.';

-- ClaimTrial: oldest WAITING trial of a study.
CREATE INDEX trials_waiting_idx ON trials (study_id, id) WHERE state = 'WAITING';
-- ReapStale: RUNNING trials of a study by heartbeat.
CREATE INDEX trials_running_idx ON trials (study_id, heartbeat_at) WHERE state = 'RUNNING';
-- Best trial and per-state counts.
CREATE INDEX trials_study_state_value_idx ON trials (study_id, state, value);
-- A trial is retried at most once (RetryTrial); a retry that fails is
-- retried in turn, so attempts form a chain.
CREATE UNIQUE INDEX trials_retry_of_idx ON trials (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE trial_params (
    trial_id     integer NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- goptuna's internal representation (a categorical's index).
    value        double precision NOT NULL,
    -- The value as the objective sees it (number or string), for SQL users.
    external     jsonb NOT NULL,
    -- goptuna.DistributionToJSON of the parameter's distribution.
    distribution jsonb NOT NULL,
    PRIMARY KEY (trial_id, name)
);

CREATE TABLE trial_values (
    trial_id     integer NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    -- The objective's report step (epochs for the built-in objectives).
    step         integer NOT NULL,
    value        double precision NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trial_id, step)
);

COMMENT ON TABLE trial_values IS 'Intermediate values: the study metric reported at each step; what pruners read.';

CREATE TABLE trial_metrics (
    trial_id     integer NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    step         integer NOT NULL,
    name         text NOT NULL,
    value        double precision NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trial_id, step, name)
);

COMMENT ON TABLE trial_metrics IS 'Named per-step metrics of a trial (train_loss, val_loss, lr, grad_norm...).';

CREATE TABLE study_user_attrs (
    study_id integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (study_id, key)
);

CREATE TABLE study_system_attrs (
    study_id integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (study_id, key)
);

CREATE TABLE trial_user_attrs (
    trial_id integer NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (trial_id, key)
);

CREATE TABLE trial_system_attrs (
    trial_id integer NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (trial_id, key)
);

-- Workers that joined a study. idx is small and unique within the study,
-- assigned in order of arrival; samplers derive per-worker seeds from it.
CREATE TABLE study_workers (
    study_id   integer NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    worker_id  text NOT NULL,
    idx        integer NOT NULL,
    host       text NOT NULL DEFAULT '',
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study_id, worker_id),
    UNIQUE (study_id, idx)
);
