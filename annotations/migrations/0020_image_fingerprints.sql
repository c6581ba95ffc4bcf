-- Each image's perceptual hashes (package reuse): of the whole image as shown, and of a
-- fixed set of windows over it (8 bytes each, big-endian), to find uploads that are
-- cropped, rescaled or recompressed copies of earlier ones. version names the hash and
-- window layout; a row of an older version is computed again. error says why an image
-- has none (too small to hash, unreadable pixels); whole and windows are then empty.
CREATE TABLE image_fingerprints (
    image_id    TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    whole       INTEGER NOT NULL DEFAULT 0,
    windows     BLOB NOT NULL DEFAULT x'',
    error       TEXT NOT NULL DEFAULT '',
    computed_at TEXT NOT NULL
);
