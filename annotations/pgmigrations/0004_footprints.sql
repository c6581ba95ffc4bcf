-- The twin of SQLite's 0025_footprints.sql: each placed image's footprint, and
-- footprint_geom, the footprint as PostGIS sees it, for finding the images whose
-- footprint meets a site's area over the GIST index.
ALTER TABLE georeferences ADD COLUMN footprint TEXT;
ALTER TABLE georeferences ADD COLUMN footprint_geom geometry(Polygon, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromGeoJSON(footprint), 4326)) STORED;
CREATE INDEX georeferences_footprint_geom ON georeferences USING GIST (footprint_geom);
