-- Two-line element sets of satellites, pasted or uploaded by analysts, to find which
-- satellites passed over an image's place within its capture window. The lines are kept
-- as given (the server parsed and checked them); name, catalogue number and epoch are
-- copied out of them to list and sort by. The same two lines are stored once.
CREATE TABLE tles (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    norad_id   INTEGER NOT NULL,
    epoch      TEXT NOT NULL,
    line1      TEXT NOT NULL,
    line2      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (line1, line2)
);
CREATE INDEX tles_norad ON tles (norad_id, epoch);
