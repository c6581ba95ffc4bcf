-- How an image is adjusted on screen, over its tiles: brightness, contrast, saturation,
-- gamma, and a levels stretch of the tiles' values (low and high in 0–1, both NULL when
-- off). One row per image, once an analyst saves some; the viewer applies them live.
CREATE TABLE image_adjustments (
    image_id     TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    brightness   REAL NOT NULL CHECK (brightness BETWEEN -1 AND 1),
    contrast     REAL NOT NULL CHECK (contrast BETWEEN -1 AND 1),
    saturation   REAL NOT NULL CHECK (saturation BETWEEN -1 AND 1),
    gamma        REAL NOT NULL CHECK (gamma BETWEEN 0.1 AND 10),
    stretch_low  REAL CHECK (stretch_low >= 0 AND stretch_low < stretch_high),
    stretch_high REAL CHECK (stretch_high <= 1),
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    CHECK ((stretch_low IS NULL) = (stretch_high IS NULL))
);
