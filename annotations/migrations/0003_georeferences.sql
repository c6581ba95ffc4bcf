-- Where an image lies on the earth: control points and the transform fitted to them, or
-- a geotransform in a CRS (from a GeoTIFF or a world file). At most one per image. The
-- ground sample distance for measuring without a georeference stays on images.gsd_m.

CREATE TABLE georeferences (
    image_id     TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    method       TEXT NOT NULL CHECK (method IN ('gcps', 'grid')),
    transform    TEXT NOT NULL DEFAULT '',
    gcps         TEXT NOT NULL DEFAULT '[]',
    geotransform TEXT NOT NULL DEFAULT '',
    crs          INTEGER NOT NULL DEFAULT 0,
    origin       TEXT NOT NULL DEFAULT '',
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- What an import had to say about a file (a GeoTIFF whose georeference could not be
-- used, for instance), as a JSON array of sentences.
ALTER TABLE images ADD COLUMN import_warnings TEXT NOT NULL DEFAULT '[]';
