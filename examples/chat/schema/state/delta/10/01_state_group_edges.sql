-- Version 10 (old, already inside snapshot 10): state groups become deltas
-- against a previous group instead of full copies of the room state.
CREATE TABLE state_group_edges (
    state_group BIGINT NOT NULL,
    prev_state_group BIGINT NOT NULL
);

-- The table is new in this version, so plain indexes are fine here.
CREATE UNIQUE INDEX state_group_edges_unique_idx ON state_group_edges (state_group, prev_state_group);
CREATE INDEX state_group_edges_prev_idx ON state_group_edges (prev_state_group);
