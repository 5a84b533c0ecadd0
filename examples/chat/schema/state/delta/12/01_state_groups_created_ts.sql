-- Version 12: remember when a state group was created, so that the state
-- compressor can leave recent groups alone. Existing groups keep NULL.
ALTER TABLE state_groups ADD COLUMN created_ts BIGINT;
