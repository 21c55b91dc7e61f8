-- The inbox's index, in the inbox's own order. The inbox pages newest first by
-- (received_at DESC, id DESC), a later page starting after the keyset
-- `(a.received_at, a.id) < ($2, $3)` of the last alert shown; with id in the index that walk
-- starts exactly where the page before ended, and equal times need no second sort.
CREATE INDEX alerts_org_received_idx ON alerts (organisation_id, received_at DESC, id DESC);
DROP INDEX alerts_org_idx;
