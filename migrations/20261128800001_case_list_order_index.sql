-- The case list's index, in the list's own order (issue 14). The list is ordered by
-- (submitted_at DESC, id DESC); the old index ended at submitted_at, so PostgreSQL sorted each
-- run of equal times again (an incremental sort), and a later page's keyset condition
-- `(c.submitted_at, c.id) < ($a, $b)` could only start the walk from the time, not the row.
-- With id in the index the first page reads its rows in order and stops, and a later page
-- starts exactly where the last one ended. Measured on 1 M cases: first page p50 2.54 ->
-- 1.78 ms at one client; a later page 508 -> 937 a second at 32 clients.
CREATE INDEX cases_area_status_submitted_idx ON cases (area_id, status, submitted_at DESC, id DESC);
DROP INDEX cases_status_idx;
