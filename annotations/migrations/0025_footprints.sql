-- Each placed image's footprint (issue 15): its outline in lon/lat as a GeoJSON Polygon,
-- as the server samples it from the georeference's transform (which SQL cannot run: a
-- polynomial, a spline or a CRS of GDAL's). NULL until the server has worked it out; a
-- changed georeference clears it, and it goes with the georeference's row. Images
-- placed before this migration have none until the server next needs it and fills it in.
ALTER TABLE georeferences ADD COLUMN footprint TEXT;
