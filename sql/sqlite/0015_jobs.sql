-- Background jobs (src/jobs/jobs.h): a month's computation or bank export run
-- by a thread of the server while the console and the API go on answering.
-- The thread writes its progress (done of total) after every page and the
-- outcome at the end; a page that shows the job reads this row. At most one
-- job runs for a month at a time, whichever server process started it (the
-- partial unique index). A job whose heartbeat stopped (its process died)
-- is counted as failed and another may start; the work itself is resumable.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('cycle.run', 'cycle.export')),
    month        TEXT NOT NULL CHECK (length(month) = 7),
    state        TEXT NOT NULL DEFAULT 'running'
                     CHECK (state = 'running' OR state = 'done' OR state = 'failed'),
    done         INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    total        INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    message_en   TEXT NOT NULL DEFAULT '' CHECK (length(message_en) <= 400),
    message_zh   TEXT NOT NULL DEFAULT '' CHECK (length(message_zh) <= 400),
    params       TEXT NOT NULL DEFAULT '{}',
    result       TEXT NOT NULL DEFAULT '{}',
    started_by   TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    finished_at  INTEGER,
    CHECK ((state = 'running') = (finished_at IS NULL))
);
CREATE UNIQUE INDEX jobs_running ON jobs (month) WHERE state = 'running';
CREATE INDEX jobs_month ON jobs (month, id);
