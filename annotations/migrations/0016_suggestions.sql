-- Suggestions: places a search found that look like one annotation (a "find similar"),
-- proposed to the analyst and not yet of record. A pending suggestion is in no export and
-- no count; accepting it makes an annotation through the same path as drawing one (its
-- revision and an audit entry under the accepter's name) and records which; rejecting it
-- records who and when. Either decision is final.
CREATE TABLE suggestions (
    id                   TEXT PRIMARY KEY,
    image_id             TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    label_id             TEXT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    shape                TEXT NOT NULL,
    geometry             TEXT NOT NULL,
    score                REAL NOT NULL CHECK (score >= -1 AND score <= 1),
    rotation             REAL NOT NULL DEFAULT 0,
    source_annotation_id TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_by           TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    decided_by           TEXT NOT NULL DEFAULT '',
    decided_at           TEXT NOT NULL DEFAULT '',
    annotation_id        TEXT NOT NULL DEFAULT '',
    CHECK ((status = 'pending') = (decided_at = '')),
    CHECK ((status = 'accepted') = (annotation_id != ''))
);
CREATE INDEX suggestions_image ON suggestions (image_id, status);
