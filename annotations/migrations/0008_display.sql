-- How a raster's bands are shown (bands, stretch, gamma, colour ramp), as the imagery
-- package's JSON. One row per image: the defaults stored at its first build, then what
-- analysts choose. The pyramid is built from it; measurements and exports refer to it.
CREATE TABLE image_displays (
    image_id   TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    settings   TEXT NOT NULL CHECK (json_valid(settings)),
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
