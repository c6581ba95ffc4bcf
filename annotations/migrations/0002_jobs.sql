-- Background work on images, such as building the tile pyramid. One row per image and
-- kind; a job is queued, running, done or failed (with its cause), and can be queued
-- again. A job left running by a process that stopped is queued again at start.

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    image_id    TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress    REAL NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    started_at  TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    UNIQUE (image_id, kind)
);
CREATE INDEX jobs_state ON jobs (kind, state, id);

-- Images stored before pyramids existed get theirs built.
INSERT INTO jobs (image_id, kind, state, created_at, updated_at)
SELECT id, 'pyramid', 'queued', created_at, created_at FROM images;
