-- Releases and the images they carry, the label taxonomy, annotations and their history.
-- Times are RFC 3339 text in UTC. Geometry is GeoJSON text in pixel space.

CREATE TABLE sources (
    id          TEXT PRIMARY KEY,
    publisher   TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL DEFAULT '',
    released_at TEXT NOT NULL DEFAULT '',
    credit      TEXT NOT NULL DEFAULT '',
    license     TEXT NOT NULL DEFAULT '',
    claim       TEXT NOT NULL DEFAULT '',
    notes       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE images (
    id               TEXT PRIMARY KEY,
    sha256           TEXT NOT NULL UNIQUE,
    source_id        TEXT NOT NULL REFERENCES sources (id),
    title            TEXT NOT NULL DEFAULT '',
    filename         TEXT NOT NULL DEFAULT '',
    media_type       TEXT NOT NULL,
    byte_size        INTEGER NOT NULL,
    width            INTEGER NOT NULL CHECK (width > 0),
    height           INTEGER NOT NULL CHECK (height > 0),
    orientation      INTEGER NOT NULL DEFAULT 1,
    captured_from    TEXT NOT NULL DEFAULT '',
    captured_to      TEXT NOT NULL DEFAULT '',
    location_name    TEXT NOT NULL DEFAULT '',
    publisher_markup INTEGER NOT NULL DEFAULT 0,
    gsd_m            REAL,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX images_source ON images (source_id);

CREATE TABLE labels (
    id         TEXT PRIMARY KEY,
    parent_id  TEXT REFERENCES labels (id),
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    hotkey     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX labels_sibling_name ON labels (COALESCE(parent_id, ''), name COLLATE NOCASE);

CREATE TABLE annotations (
    id             TEXT PRIMARY KEY,
    image_id       TEXT NOT NULL REFERENCES images (id),
    label_id       TEXT NOT NULL REFERENCES labels (id),
    shape          TEXT NOT NULL,
    geometry       TEXT NOT NULL,
    confidence     TEXT NOT NULL DEFAULT '',
    identification TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    attributes     TEXT NOT NULL DEFAULT '{}',
    review_status  TEXT NOT NULL DEFAULT 'draft',
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        INTEGER NOT NULL
);
CREATE INDEX annotations_image ON annotations (image_id);
CREATE INDEX annotations_label ON annotations (label_id);

-- Append-only: one row per create, update and delete, written in the same transaction as
-- the change. before/after are the annotation's full JSON representation (null for the
-- side that does not exist). Rows outlive the annotation they describe.
CREATE TABLE revisions (
    id            INTEGER PRIMARY KEY,
    annotation_id TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    actor         TEXT NOT NULL,
    at            TEXT NOT NULL,
    before        TEXT,
    after         TEXT,
    UNIQUE (annotation_id, version)
);
CREATE INDEX revisions_image ON revisions (image_id);
