-- Version 11: state groups no longer referenced by any event are queued
-- here and deleted once they have been unreferenced for a while.
CREATE TABLE state_groups_pending_deletion (
    sequence_number BIGINT NOT NULL,
    state_group BIGINT NOT NULL PRIMARY KEY,
    insertion_ts BIGINT NOT NULL
);

CREATE INDEX state_groups_pending_deletion_insertion_ts ON state_groups_pending_deletion (insertion_ts);
