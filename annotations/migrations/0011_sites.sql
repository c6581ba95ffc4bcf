-- A site is a named place with an area (a polygon in WGS 84 lon/lat, GeoJSON): the images
-- whose footprint meets the area belong to it, and the analysts add others by hand (an
-- unplaced release of the same base) or leave one out (a footprint that only grazes it).
CREATE TABLE sites (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    area       TEXT NOT NULL,
    notes      TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX sites_name ON sites (name COLLATE NOCASE);

-- An image added to a site by hand (member = 1) or left out of it though its footprint
-- meets the area (member = 0).
CREATE TABLE site_images (
    site_id  TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member   INTEGER NOT NULL CHECK (member IN (0, 1)),
    by       TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (site_id, image_id)
);
CREATE INDEX site_images_image ON site_images (image_id);
