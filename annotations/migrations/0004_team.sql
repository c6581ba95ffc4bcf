-- Working as a team: accounts, sessions, API tokens, the audit log, reviews and comments
-- on annotations, and a trash for deleted images.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    -- set for a generated password: the user chooses their own at first sign-in
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (name COLLATE NOCASE);

-- A session is known by the SHA-256 of its cookie, never the cookie itself.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens, likewise stored as hashes; revoked ones stay for the record.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL DEFAULT '',
    revoked_at   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Append-only: who did what to what, including failed sign-ins.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);

-- One row per review decision, on the version reviewed.
CREATE TABLE reviews (
    id            INTEGER PRIMARY KEY,
    annotation_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    reviewer      TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('submitted', 'accepted', 'disputed', 'rejected')),
    reason        TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL
);
CREATE INDEX reviews_annotation ON reviews (annotation_id);

CREATE TABLE comments (
    id            TEXT PRIMARY KEY,
    annotation_id TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX comments_annotation ON comments (annotation_id);

-- A deleted image waits in the trash until an admin restores or purges it.
ALTER TABLE images ADD COLUMN deleted_at TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';
