-- Each image's perceptual hashes (package reuse): of the whole image as shown, then of a
-- fixed set of windows over it, 32 bytes each, to find uploads that are cropped,
-- rescaled or recompressed copies of earlier ones. version names the hash and window
-- layout; a row of an older version is computed again. error says why an image has none
-- (too small to hash, unreadable pixels); hashes is then empty.
CREATE TABLE image_fingerprints (
    image_id    TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    hashes      BLOB NOT NULL DEFAULT x'',
    error       TEXT NOT NULL DEFAULT '',
    computed_at TEXT NOT NULL
);
