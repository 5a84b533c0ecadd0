-- Version 13: state groups that a worker is still writing, so that the
-- deletion job of version 11 never removes a group that is being persisted.
CREATE TABLE state_groups_persisting (
    state_group BIGINT NOT NULL,
    instance_name TEXT NOT NULL,
    PRIMARY KEY (state_group, instance_name)
);

CREATE INDEX state_groups_persisting_instance_name ON state_groups_persisting (instance_name);
