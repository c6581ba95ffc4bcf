-- Several satmark processes on one database (issue 15).
--
-- A running job belongs to the process that claimed it (owner, an id each process makes
-- at start) until lease_until, which the owner keeps renewing while it works; once the
-- lease has run out, another process may claim the job again. Jobs running before this
-- migration have no lease, so any process may take them up.
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';

-- Failed sign-ins, kept here rather than in each process's memory so that every process
-- behind one address counts the same attempts. key is "account:<name>" or "ip:<address>".
CREATE TABLE signin_failures (
    id        INTEGER PRIMARY KEY,
    key       TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX signin_failures_key ON signin_failures (key, failed_at);
CREATE INDEX signin_failures_time ON signin_failures (failed_at);
