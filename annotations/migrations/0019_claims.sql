-- A release's claims, in the publisher's words ("landing ships transported troops 8–13
-- October"), each with the time and place it claims when it names them, and the
-- annotations the analysts link to a claim as evidence: supporting it, contradicting it,
-- or context, with their assessment and how confident they are (0–1).
CREATE TABLE claims (
    id           TEXT PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    text         TEXT NOT NULL CHECK (text != ''),
    claimed_from TEXT NOT NULL DEFAULT '',
    claimed_to   TEXT NOT NULL DEFAULT '',
    place_name   TEXT NOT NULL DEFAULT '',
    lon          REAL,
    lat          REAL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK ((lon IS NULL) = (lat IS NULL))
);
CREATE INDEX claims_source ON claims (source_id, created_at);

CREATE TABLE evidence (
    id            TEXT PRIMARY KEY,
    claim_id      TEXT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    annotation_id TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    image_id      TEXT NOT NULL,
    stance        TEXT NOT NULL CHECK (stance IN ('supports', 'contradicts', 'context')),
    assessment    TEXT NOT NULL DEFAULT '',
    confidence    REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    version       INTEGER NOT NULL DEFAULT 1,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (claim_id, annotation_id)
);
CREATE INDEX evidence_annotation ON evidence (annotation_id);
CREATE INDEX evidence_image ON evidence (image_id);

-- Append-only, like revisions: one row per change of a claim or of its evidence, written
-- in the change's transaction, with the full JSON before and after (null for the side
-- that does not exist). Rows outlive what they describe.
CREATE TABLE claim_revisions (
    id        INTEGER PRIMARY KEY,
    claim_id  TEXT NOT NULL,
    target    TEXT NOT NULL CHECK (target IN ('claim', 'evidence')),
    target_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    before    TEXT,
    after     TEXT
);
CREATE INDEX claim_revisions_claim ON claim_revisions (claim_id, id);

-- The one claim a release could carry until now becomes its first claim, by whoever
-- uploaded the release's first image, at the time the release was recorded. Its id is
-- the release's with the claim prefix: one first claim per release, and the shape of an
-- id (three letters, an underscore, twelve characters).
INSERT INTO claims (id, source_id, text, created_by, created_at, updated_by, updated_at)
SELECT 'clm_' || substr(s.id, 5), s.id, trim(s.claim),
       COALESCE((SELECT i.created_by FROM images i WHERE i.source_id = s.id ORDER BY i.created_at, i.id LIMIT 1), 'satmark'),
       s.created_at,
       COALESCE((SELECT i.created_by FROM images i WHERE i.source_id = s.id ORDER BY i.created_at, i.id LIMIT 1), 'satmark'),
       s.created_at
FROM sources s WHERE trim(s.claim) != '';

INSERT INTO claim_revisions (claim_id, target, target_id, version, action, actor, at, before, after)
SELECT c.id, 'claim', c.id, 1, 'create', c.created_by, c.created_at, NULL,
       json_object('id', c.id, 'source_id', c.source_id, 'text', c.text, 'note', 'moved from the release''s claim field by migration 0019')
FROM claims c;

-- The release's claim is its first claim from now on (Source.Claim reads it).
ALTER TABLE sources DROP COLUMN claim;
