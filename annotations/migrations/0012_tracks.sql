-- A track follows one object across images: this landing ship on 8 and on 13 October.
-- Each link puts one annotation in it with the analyst's confidence that it is the same
-- object; an annotation is in at most one track, and a track has at most one annotation
-- of an image (the same object cannot be twice in one picture).
CREATE TABLE tracks (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    notes      TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE track_links (
    track_id      TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    annotation_id TEXT NOT NULL UNIQUE REFERENCES annotations (id) ON DELETE CASCADE,
    image_id      TEXT NOT NULL,
    confidence    TEXT NOT NULL CHECK (confidence IN ('confirmed', 'probable', 'possible')),
    by            TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (track_id, annotation_id),
    UNIQUE (track_id, image_id)
);
