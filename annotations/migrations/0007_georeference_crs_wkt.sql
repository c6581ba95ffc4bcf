-- A grid georeference in a CRS that has no EPSG code (a .prj's own projection) keeps the
-- CRS as WKT 2 here, with crs 0; a CRS with an EPSG code keeps it in crs and '' here.
ALTER TABLE georeferences ADD COLUMN crs_wkt TEXT NOT NULL DEFAULT '';
