//! The SQLite table-rebuild helper: a column change keeps the rows, indexes, triggers and
//! foreign keys, and a rebuild that would break a foreign key fails and changes nothing.

use strata::Transaction;
use strata::Value;
use strata::driver::Driver;
use strata::driver::sqlite::SqliteDriver;
use strata::rebuild::{Rebuild, rebuild_sqlite_table};

fn setup(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE events (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL REFERENCES rooms (id), body TEXT, ts BIGINT);
         CREATE INDEX events_room_ts ON events (room_id, ts);
         CREATE TABLE log (what TEXT);
         CREATE TRIGGER events_log AFTER INSERT ON events BEGIN INSERT INTO log (what) VALUES (NEW.body); END;
         INSERT INTO rooms (id, name) VALUES (1, 'a'), (2, NULL);
         INSERT INTO events (id, room_id, body, ts) VALUES (1, 1, 'hi', NULL), (2, 2, 'yo', 5);",
    )
    .unwrap();
}

fn all(db: &mut dyn Driver, sql: &str) -> Vec<Vec<Value>> {
    db.query(sql, &[]).unwrap()
}

#[test]
fn a_column_change_keeps_rows_indexes_triggers_and_foreign_keys() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    setup(&conn);
    // As the runtime does for a `foreign-keys-off` delta: off outside the transaction.
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let mut db = SqliteDriver::new(&mut conn).unwrap();
    db.begin().unwrap();
    // `ts` becomes NOT NULL DEFAULT 0; `rooms`, the parent, is rebuilt too.
    rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "events",
            columns: "id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL REFERENCES rooms (id), body TEXT, ts BIGINT NOT NULL DEFAULT 0",
            copy: &[("id", "id"), ("room_id", "room_id"), ("body", "body"), ("ts", "coalesce(ts, 0)")],
        },
    )
    .unwrap();
    rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "rooms",
            columns: "id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT ''",
            copy: &[("id", "id"), ("name", "coalesce(name, '')")],
        },
    )
    .unwrap();
    db.commit().unwrap();
    assert_eq!(
        all(
            &mut db,
            "SELECT id, room_id, body, ts FROM events ORDER BY id"
        ),
        vec![
            vec![
                Value::Integer(1),
                Value::Integer(1),
                Value::Text("hi".into()),
                Value::Integer(0)
            ],
            vec![
                Value::Integer(2),
                Value::Integer(2),
                Value::Text("yo".into()),
                Value::Integer(5)
            ],
        ]
    );
    let objects = all(
        &mut db,
        "SELECT type || ' ' || name FROM sqlite_schema WHERE tbl_name IN ('events', 'rooms') ORDER BY 1",
    );
    let names: Vec<String> = objects
        .iter()
        .map(|r| match &r[0] {
            Value::Text(t) => t.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "index events_room_ts",
            "table events",
            "table rooms",
            "trigger events_log"
        ]
    );
    assert!(
        all(
            &mut db,
            "SELECT name FROM sqlite_schema WHERE name LIKE '%strata_rebuild%'"
        )
        .is_empty()
    );
    // The new definition holds: NOT NULL now refused, the trigger still fires.
    assert!(
        db.execute(
            "INSERT INTO events (id, room_id, body, ts) VALUES (3, 1, 'x', NULL)",
            &[]
        )
        .is_err()
    );
    // The two setup rows logged 2; copying the rows into the new table logged nothing.
    assert_eq!(
        all(&mut db, "SELECT count(*) FROM log"),
        vec![vec![Value::Integer(2)]]
    );
    db.execute(
        "INSERT INTO events (id, room_id, body) VALUES (3, 1, 'x')",
        &[],
    )
    .unwrap();
    assert_eq!(
        all(&mut db, "SELECT count(*) FROM log"),
        vec![vec![Value::Integer(3)]]
    );
    // The foreign key still points at rooms.
    db.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    assert!(
        db.execute(
            "INSERT INTO events (id, room_id, body) VALUES (4, 99, 'x')",
            &[]
        )
        .is_err()
    );
}

#[test]
fn a_rebuild_that_breaks_a_foreign_key_fails_and_changes_nothing() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    setup(&conn);
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let mut db = SqliteDriver::new(&mut conn).unwrap();
    db.begin().unwrap();
    let err = rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "events",
            columns: "id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL REFERENCES rooms (id), body TEXT, ts BIGINT",
            copy: &[("id", "id"), ("room_id", "room_id + 100"), ("body", "body"), ("ts", "ts")],
        },
    )
    .unwrap_err();
    db.rollback().unwrap();
    assert!(err.to_string().contains("breaks a foreign key"), "{err}");
    assert!(
        err.to_string().contains("`events`") && err.to_string().contains("`rooms`"),
        "{err}"
    );
    assert_eq!(
        all(&mut db, "SELECT room_id FROM events ORDER BY id"),
        vec![vec![Value::Integer(1)], vec![Value::Integer(2)]]
    );
    let missing = rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "nope",
            columns: "a INT",
            copy: &[],
        },
    )
    .unwrap_err();
    assert!(missing.to_string().contains("no table `nope`"), "{missing}");
}

#[test]
fn with_foreign_keys_enforced_a_child_is_rebuilt_and_a_parent_refused() {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    setup(&conn);
    // Bundled SQLite enforces foreign keys by default, as code deltas run.
    let mut db = SqliteDriver::new(&mut conn).unwrap();
    db.begin().unwrap();
    rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "events",
            columns: "id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL REFERENCES rooms (id), body TEXT NOT NULL DEFAULT '', ts BIGINT",
            copy: &[("id", "id"), ("room_id", "room_id"), ("body", "coalesce(body, '')"), ("ts", "ts")],
        },
    )
    .unwrap();
    let err = rebuild_sqlite_table(
        &mut db,
        &Rebuild {
            table: "rooms",
            columns: "id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT ''",
            copy: &[("id", "id"), ("name", "coalesce(name, '')")],
        },
    )
    .unwrap_err();
    db.commit().unwrap();
    assert!(err.to_string().contains("`events` refers to it"), "{err}");
    assert_eq!(
        all(&mut db, "SELECT count(*) FROM rooms"),
        vec![vec![Value::Integer(2)]]
    );
    assert_eq!(
        all(&mut db, "SELECT count(*) FROM events"),
        vec![vec![Value::Integer(2)]]
    );
}
