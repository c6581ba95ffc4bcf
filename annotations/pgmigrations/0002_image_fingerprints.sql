-- The twin of SQLite's 0020_image_fingerprints.sql: each image's perceptual hashes
-- (package reuse), 32 bytes a window, in one BYTEA.
CREATE TABLE image_fingerprints (
    image_id    TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    hashes      BYTEA NOT NULL DEFAULT '\x'::bytea,
    error       TEXT NOT NULL DEFAULT '',
    computed_at TEXT NOT NULL
);
