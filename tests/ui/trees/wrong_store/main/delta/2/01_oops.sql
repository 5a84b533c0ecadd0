INSERT INTO state_groups (id) VALUES (1);
