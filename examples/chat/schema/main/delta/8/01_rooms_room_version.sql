-- Version 8 (old, already inside snapshot 10): rooms remember the room
-- version they were created with. Rooms created before it are version '1'.
ALTER TABLE rooms ADD COLUMN room_version TEXT;

UPDATE rooms SET room_version = '1' WHERE room_version IS NULL;
