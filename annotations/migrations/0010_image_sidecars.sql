-- The sidecar files an image's original came with (a delivery's .IMD, .RPB, DIMAP XML,
-- world file, …): a JSON array of {name, sha256, byte_size}, in the order received. The
-- files are kept beside the original, under their names.
ALTER TABLE images ADD COLUMN sidecars TEXT NOT NULL DEFAULT '[]';
