-- Search coverage: a grid laid over an image whose cells analysts mark as searched, so a
-- team knows which part of a scene someone has looked through and which is left. One
-- grid per image, its square cells cell_px image pixels wide (the last column and row are
-- cut by the image's edge); a marked cell says who searched it and when.
CREATE TABLE coverage_grids (
    image_id   TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
    cell_px    INTEGER NOT NULL CHECK (cell_px > 0),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE coverage_cells (
    image_id TEXT NOT NULL REFERENCES coverage_grids (image_id) ON DELETE CASCADE,
    col      INTEGER NOT NULL CHECK (col >= 0),
    row      INTEGER NOT NULL CHECK (row >= 0),
    by       TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (image_id, col, row)
);
