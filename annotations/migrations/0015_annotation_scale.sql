-- An image with 100,000 annotations.
--
-- 1. Every image answer carries its annotations counted by review status, and every
-- annotation write reads its image: counted per read, each write slowed as the image
-- filled. The counts are kept instead, one row per image and status, by triggers, so that
-- every insert, delete and change of status of an annotation updates them in its own
-- transaction, whatever writes it (the store, an import, a benchmark's bulk insert).
CREATE TABLE image_review_counts (
    image_id      TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    review_status TEXT NOT NULL,
    n             INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (image_id, review_status)
) WITHOUT ROWID;

INSERT INTO image_review_counts (image_id, review_status, n)
    SELECT image_id, review_status, COUNT(*) FROM annotations GROUP BY image_id, review_status;

CREATE TRIGGER annotations_count_insert AFTER INSERT ON annotations BEGIN
    INSERT INTO image_review_counts (image_id, review_status, n) VALUES (NEW.image_id, NEW.review_status, 1)
        ON CONFLICT (image_id, review_status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER annotations_count_delete AFTER DELETE ON annotations BEGIN
    UPDATE image_review_counts SET n = n - 1 WHERE image_id = OLD.image_id AND review_status = OLD.review_status;
END;

CREATE TRIGGER annotations_count_update AFTER UPDATE OF image_id, review_status ON annotations
    WHEN OLD.image_id IS NOT NEW.image_id OR OLD.review_status IS NOT NEW.review_status BEGIN
    UPDATE image_review_counts SET n = n - 1 WHERE image_id = OLD.image_id AND review_status = OLD.review_status;
    INSERT INTO image_review_counts (image_id, review_status, n) VALUES (NEW.image_id, NEW.review_status, 1)
        ON CONFLICT (image_id, review_status) DO UPDATE SET n = n + 1;
END;

-- 2. An image's annotations in pages: ordered by (created_at, id) as the full list is,
-- read from this index a page at a time. It also serves every other read of one image's
-- annotations; the index by status (0005) served only the counts, now kept above.
CREATE INDEX annotations_image_created ON annotations (image_id, created_at, id);
DROP INDEX annotations_image_status;

-- 3. What changed on an image since a client's last read: the revisions' id is the
-- position of a change (written in the change's transaction, never reused: revisions are
-- never deleted), so the changes since position S are the revisions of the image after S.
CREATE INDEX revisions_image_id ON revisions (image_id, id);
DROP INDEX revisions_image;
