-- A review decision can be withdrawn by who made it (an undo): the decision stays, marked
-- with who withdrew it, when, and the version the withdrawal made (which the history
-- and the rule of who may decide read).
ALTER TABLE reviews ADD COLUMN withdrawn_by TEXT NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN withdrawn_at TEXT NOT NULL DEFAULT '';
ALTER TABLE reviews ADD COLUMN withdrawn_version INTEGER NOT NULL DEFAULT 0;
