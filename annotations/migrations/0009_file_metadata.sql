-- What an image's file says of its own capture (acquisition time, satellite, sun, …, and
-- the raw items), and where its capture window came from: 'release' (the analyst gave
-- it), 'file' (pre-filled from the file's acquisition time) or '' (none).
ALTER TABLE images ADD COLUMN file_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE images ADD COLUMN captured_source TEXT NOT NULL DEFAULT '';
UPDATE images SET captured_source = 'release' WHERE captured_from != '' OR captured_to != '';
