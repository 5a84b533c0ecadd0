#!/usr/bin/env bash
# Replays the chat example migration tree on real SQLite and PostgreSQL.
#
# For every store (main, state) and every engine (sqlite, postgres):
#   layout   - the tree obeys strata's file rules (names, pairs of engine
#              variants, no empty file, no stem in two stores of one version)
#   replay   - fresh database: bookkeeping stand-ins, common snapshot 10, the
#              store's snapshot 10, a few fixture rows, then for each version
#              above 10 common's deltas and the store's deltas, in byte order
#              of the stem, each file in its own transaction
#   data     - queries after the replay (trigger, upsert, backfills, the
#              literals with ';' and '--') give the expected rows
#   history  - the old deltas (versions <= 10) rebuild snapshot 10: the
#              snapshot with their changes reverted, plus the old deltas,
#              has the same tables, columns, indexes and keys as the snapshot
#   coverage - every file of the tree ran on every engine it is meant for
#
# Usage: validate_tree.sh [TREE_DIR]      (default: schema/ next to this script)
# Environment:
#   STRATA_PG_URL   server URL, default postgresql://postgres@127.0.0.1:5432/postgres
#   SQLITE3, PSQL   client binaries, default sqlite3 and psql
#   SKIP_POSTGRES=1 run the SQLite half only
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
TREE=$(cd "${1:-$HERE/schema}" && pwd) || exit 2
PG_URL=${STRATA_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
SQLITE3=${SQLITE3:-sqlite3}
PSQL=${PSQL:-psql}
SNAPSHOT=10
ENGINES=(sqlite postgres)
[[ ${SKIP_POSTGRES:-0} == 1 ]] && ENGINES=(sqlite)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-chat.XXXXXX")
PG_DBS=()
cleanup() {
    local db
    for db in "${PG_DBS[@]}"; do
        "$PSQL" -X -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
            echo "warning: could not drop scratch database $db" >&2
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }

# Stores are the top-level folders other than common.
STORES=()
for d in "$TREE"/*/; do
    d=$(basename "$d")
    [[ $d == common ]] || STORES+=("$d")
done

# ---------------------------------------------------------------- helpers

# pick DIR ENGINE: the files of one folder for ENGINE, in byte order of the
# stem; per stem the .sql.ENGINE body if there is one, else the plain .sql.
pick() {
    local dir=$1 engine=$2 stem
    [[ -d $dir ]] || return 0
    for stem in $(ls "$dir" | sed -E 's/\.(sqlite|postgres)$//' | sort -u); do
        if [[ -f $dir/$stem.$engine ]]; then
            echo "$dir/$stem.$engine"
        elif [[ -f $dir/$stem ]]; then
            echo "$dir/$stem"
        fi
    done
}

# versions STORE: every delta version of common and STORE, numerically.
versions() {
    ls "$TREE/common/delta" "$TREE/$1/delta" 2>/dev/null | grep -E '^[0-9]+$' | sort -un
}

# plan STORE ENGINE: files a fresh database runs, up to the fixture marker.
plan_snapshot() {
    pick "$TREE/common/full_schemas/$SNAPSHOT" "$2"
    pick "$TREE/$1/full_schemas/$SNAPSHOT" "$2"
}
plan_deltas() { # STORE ENGINE FROM TO: deltas with FROM <= version <= TO
    local v
    for v in $(versions "$1"); do
        ((v >= $3 && v <= $4)) || continue
        pick "$TREE/common/delta/$v" "$2"
        pick "$TREE/$1/delta/$v" "$2"
    done
}

cat >"$WORK/standins.sql" <<'EOF'
-- Stand-ins for the tables the strata runtime creates itself.
CREATE TABLE strata_schema_version (store TEXT PRIMARY KEY, version BIGINT NOT NULL);
CREATE TABLE strata_applied_deltas (store TEXT, version BIGINT, name TEXT);
CREATE TABLE strata_background_updates (update_name TEXT NOT NULL PRIMARY KEY, progress_json TEXT NOT NULL DEFAULT '{}', depends_on TEXT, ordering BIGINT NOT NULL DEFAULT 0, completed_at BIGINT);
EOF

EXECUTED=$WORK/executed.txt
: >"$EXECUTED"

# run ENGINE DB FILE: execute one file in its own transaction.
run() {
    local engine=$1 db=$2 file=$3
    case $file in "$TREE"/*) echo "$engine ${file#"$TREE"/}" >>"$EXECUTED" ;; esac
    if [[ $engine == sqlite ]]; then
        # The extra ';' ends a last statement written without one.
        "$SQLITE3" -bail -batch -cmd 'PRAGMA foreign_keys=ON;' -cmd 'BEGIN;' "$db" \
            < <(cat "$file"; printf '\n;\nCOMMIT;\n') >/dev/null
    else
        "$PSQL" -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$db" -f "$file" >/dev/null
    fi
}

# query ENGINE DB FILE: run FILE, print its rows as a|b|c lines.
query() {
    if [[ $1 == sqlite ]]; then
        "$SQLITE3" -bail -batch -cmd 'PRAGMA foreign_keys=ON;' "$2" <"$3"
    else
        "$PSQL" -X -q -A -t -F '|' -v ON_ERROR_STOP=1 --single-transaction -d "$2" -f "$3"
    fi | grep -v '^$'
}

# fresh_db ENGINE LABEL VAR: set VAR to the handle (file path or URL) of a new,
# empty database (not in a subshell, so that cleanup knows every scratch DB).
fresh_db() {
    if [[ $1 == sqlite ]]; then
        rm -f "$WORK/$2.db"
        printf -v "$3" '%s' "$WORK/$2.db"
    else
        local name="strata_chat_${2//[^a-z0-9]/_}_$$"
        "$PSQL" -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE DATABASE $name" >/dev/null || return 1
        PG_DBS+=("$name")
        printf -v "$3" '%s' "${PG_URL%/*}/$name"
    fi
}

# run_all ENGINE DB FILE...: run files in order, stop at the first failure.
run_all() {
    local engine=$1 db=$2 file
    shift 2
    for file in "$@"; do
        if ! run "$engine" "$db" "$file"; then
            echo "     ^ failed in ${file#"$TREE"/}" >&2
            return 1
        fi
    done
}

# ---------------------------------------------------------------- layout

layout_errors=()
for f in $(cd "$TREE" && find . -type f ! -name strata.toml | sed 's|^\./||' | sort); do
    if [[ ! $f =~ ^[a-z_]+/(full_schemas|delta)/[0-9]+/[0-9]{2}_[a-z0-9_]+\.sql(\.(sqlite|postgres))?$ ]]; then
        layout_errors+=("unexpected path $f")
        continue
    fi
    grep -q '[^[:space:]]' "$TREE/$f" || layout_errors+=("empty file $f")
    case $f in
        *.sql) [[ -e $TREE/$f.sqlite || -e $TREE/$f.postgres ]] &&
            layout_errors+=("$f sits next to an engine variant of the same stem") ;;
        *.sql.sqlite) [[ -e $TREE/${f%.sqlite}.postgres ]] ||
            layout_errors+=("$f has no .sql.postgres body") ;;
        *.sql.postgres) [[ -e $TREE/${f%.postgres}.sqlite ]] ||
            layout_errors+=("$f has no .sql.sqlite body") ;;
    esac
done
dups=$(cd "$TREE" && find . -path '*/delta/*' -type f | sed -E 's|^\./[^/]+/delta/||; s/\.(sqlite|postgres)$//' |
    sort | uniq -c | awk '$1 > 1 { print $2 }')
# A stem counted twice is fine when it is the pair of engine bodies of one delta.
for d in $dups; do
    n=$(cd "$TREE" && ls -d */delta/"$d"* 2>/dev/null | sed -E 's|/delta/.*||' | sort -u | wc -l)
    ((n > 1)) && layout_errors+=("stem delta/$d appears in more than one of common and the stores")
done
for s in common "${STORES[@]}"; do
    [[ -d $TREE/$s/full_schemas/$SNAPSHOT ]] || layout_errors+=("$s has no full_schemas/$SNAPSHOT")
done
if ((${#layout_errors[@]} == 0)); then
    pass "layout ($(cd "$TREE" && find . -type f | wc -l) files, stores: ${STORES[*]})"
else
    printf '     %s\n' "${layout_errors[@]}"
    fail "layout"
fi

# ------------------------------------------------------ fixtures and checks

cat >"$WORK/main.fixture.sql" <<'EOF'
INSERT INTO users (name, password_hash, creation_ts, admin, deactivated, displayname) VALUES
    ('@alice:chat.example.org', NULL, 1700000000000, TRUE, FALSE, 'Alice'),
    ('@bob:chat.example.org', NULL, 1700000000001, FALSE, FALSE, 'Bob');
INSERT INTO devices (user_id, device_id, display_name, hidden, last_seen_ts) VALUES
    ('@alice:chat.example.org', 'ALICEPHONE', 'Alice''s phone', FALSE, 1700000000500);
INSERT INTO rooms (room_id, is_public, creator, created_ts, room_version) VALUES
    ('!lobby:chat.example.org', TRUE, '@alice:chat.example.org', 1700000001000, '10');
INSERT INTO events (stream_ordering, topological_ordering, event_id, room_id, type, state_key, sender, origin_server_ts, received_ts, outlier, event_json) VALUES
    (1, 1, '$create', '!lobby:chat.example.org', 'm.room.create', '', '@alice:chat.example.org', 1700000001000, 1700000001001, FALSE, '{"type":"m.room.create","content":{}}'),
    (2, 2, '$redaction', '!lobby:chat.example.org', 'm.room.redaction', NULL, '@alice:chat.example.org', 1700000001500, 1700000001501, FALSE, '{"type":"m.room.redaction","redacts":"$create"}');
INSERT INTO room_memberships (room_id, user_id, event_id, sender, membership, stream_ordering) VALUES
    ('!lobby:chat.example.org', '@alice:chat.example.org', '$alice_join', '@alice:chat.example.org', 'join', 3),
    ('!lobby:chat.example.org', '@bob:chat.example.org', '$bob_invite', '@alice:chat.example.org', 'invite', 4);
EOF

cat >"$WORK/main.check.sql" <<'EOF'
-- bob accepts the invite (update trigger), then opens a room (insert trigger)
UPDATE room_memberships SET membership = 'join', event_id = '$bob_join', stream_ordering = 5
    WHERE room_id = '!lobby:chat.example.org' AND user_id = '@bob:chat.example.org';
INSERT INTO rooms (room_id, is_public, creator, created_ts, room_version) VALUES
    ('!side:chat.example.org', FALSE, '@bob:chat.example.org', 1700000002000, '10');
INSERT INTO room_memberships (room_id, user_id, event_id, sender, membership, stream_ordering) VALUES
    ('!side:chat.example.org', '@bob:chat.example.org', '$bob_side_join', '@bob:chat.example.org', 'join', 6);
INSERT INTO device_inbox (user_id, device_id, message_json, received_ts) VALUES
    ('@alice:chat.example.org', 'ALICEPHONE', '{"type":"m.room_key_request"}', 1700000003000);
INSERT INTO event_reports (id, received_ts, room_id, event_id, user_id, reason) VALUES
    (1, 1700000004000, '!lobby:chat.example.org', '$create', '@bob:chat.example.org', 'spam; really -- trust me');
SELECT 'stats', room_id, joined_members, invited_members, last_membership_stream_ordering FROM room_stats_current ORDER BY room_id;
SELECT 'redacts', event_id, redacts FROM events WHERE redacts IS NOT NULL ORDER BY event_id;
SELECT 'ratelimit', user_id, messages_per_second FROM ratelimit_override ORDER BY user_id;
SELECT 'inbox', stream_id, user_id, device_id FROM device_inbox ORDER BY stream_id;
SELECT 'report', id, reason FROM event_reports WHERE resolved_ts IS NULL ORDER BY id;
SELECT 'user', name, creation_ts, CASE WHEN shadow_banned THEN 1 ELSE 0 END FROM users ORDER BY name;
SELECT 'room', room_id, COALESCE(room_version, '-'), COALESCE(last_activity_ts, -1) FROM rooms ORDER BY room_id;
SELECT 'stream', stream_name, stream_id FROM stream_positions ORDER BY stream_name;
SELECT 'setting', setting_name, setting_value, COALESCE(description, '-') FROM instance_settings ORDER BY setting_name;
SELECT 'bg', update_name, COALESCE(depends_on, '-'), ordering, progress_json FROM strata_background_updates ORDER BY ordering, update_name;
EOF

SETTINGS_EXPECTED="setting|public_baseurl|https://chat.example.org/_matrix;v=1|Base URL handed to clients; no trailing slash -- see the docs
setting|registration_notice|Welcome -- read http://x;y first; it's short|-
setting|server_name|chat.example.org|-"

cat >"$WORK/main.expected" <<EOF
stats|!lobby:chat.example.org|2|0|5
stats|!side:chat.example.org|1|0|6
redacts|\$redaction|\$create
ratelimit|@alice:chat.example.org|0
inbox|1|@alice:chat.example.org|ALICEPHONE
report|1|spam; really -- trust me
user|@alice:chat.example.org|1700000000000|0
user|@bob:chat.example.org|1700000000001|0
room|!lobby:chat.example.org|10|-1
room|!side:chat.example.org|10|-1
stream|device_inbox|0
stream|events|0
$SETTINGS_EXPECTED
bg|events_origin_ts_idx|-|1201|{}
bg|rooms_last_activity_ts_backfill|events_origin_ts_idx|1301|{}
EOF

cat >"$WORK/state.fixture.sql" <<'EOF'
INSERT INTO state_groups (id, room_id, event_id) VALUES
    (1, '!lobby:chat.example.org', '$create'),
    (2, '!lobby:chat.example.org', '$alice_join');
INSERT INTO state_groups_state (state_group, room_id, type, state_key, event_id) VALUES
    (1, '!lobby:chat.example.org', 'm.room.create', '', '$create'),
    (2, '!lobby:chat.example.org', 'm.room.member', '@alice:chat.example.org', '$alice_join');
INSERT INTO state_group_edges (state_group, prev_state_group) VALUES (2, 1);
EOF

cat >"$WORK/state.check.sql" <<'EOF'
INSERT INTO state_groups (id, room_id, event_id, created_ts) VALUES
    (3, '!lobby:chat.example.org', '$bob_join', 1700000005000);
INSERT INTO state_groups_pending_deletion (sequence_number, state_group, insertion_ts) VALUES (1, 1, 1700000006000);
INSERT INTO state_groups_persisting (state_group, instance_name) VALUES (3, 'worker1');
INSERT INTO state_compressor_progress (singleton, last_compressed_group, updated_ts) VALUES ('X', 2, 1700000007000)
    ON CONFLICT (singleton) DO UPDATE SET last_compressed_group = excluded.last_compressed_group, updated_ts = excluded.updated_ts;
SELECT 'group', id, COALESCE(created_ts, -1) FROM state_groups ORDER BY id;
SELECT 'edge', state_group, prev_state_group FROM state_group_edges ORDER BY state_group;
SELECT 'pending', state_group, insertion_ts FROM state_groups_pending_deletion ORDER BY state_group;
SELECT 'persisting', state_group, instance_name FROM state_groups_persisting ORDER BY state_group;
SELECT 'compressor', singleton, last_compressed_group, updated_ts FROM state_compressor_progress;
SELECT 'setting', setting_name, setting_value, COALESCE(description, '-') FROM instance_settings ORDER BY setting_name;
SELECT 'bg', COUNT(*) FROM strata_background_updates;
EOF

cat >"$WORK/state.expected" <<EOF
group|1|-1
group|2|-1
group|3|1700000005000
edge|2|1
pending|1|1700000006000
persisting|3|worker1
compressor|X|2|1700000007000
$SETTINGS_EXPECTED
bg|0
EOF

# What each store's old deltas (versions <= 10) added, undone on top of the
# snapshot: replaying the old deltas on the result must give the snapshot back.
cat >"$WORK/main.revert.sql" <<'EOF'
DROP TABLE room_memberships;                  -- created by delta 10
ALTER TABLE devices DROP COLUMN last_seen_ts; -- added by delta 9
ALTER TABLE rooms DROP COLUMN room_version;   -- added by delta 8
EOF
cat >"$WORK/state.revert.sql" <<'EOF'
DROP TABLE state_group_edges;                 -- created by delta 10
EOF

cat >"$WORK/fingerprint.sqlite.sql" <<'EOF'
SELECT 'column', m.name, p.cid, p.name, p.type, p."notnull", COALESCE(p.dflt_value, 'NULL'), p.pk
    FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid;
SELECT 'index', m.name, l.name, l."unique", l.origin, l.partial,
        (SELECT group_concat(i.name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno) i)
    FROM sqlite_schema m, pragma_index_list(m.name) l WHERE m.type = 'table' ORDER BY m.name, l.name;
SELECT 'fk', m.name, f.id, f.seq, f."table", f."from", f."to", f.on_delete
    FROM sqlite_schema m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq;
SELECT type, name, tbl_name FROM sqlite_schema WHERE type IN ('trigger', 'view') ORDER BY name;
EOF
cat >"$WORK/fingerprint.postgres.sql" <<'EOF'
SELECT 'column', table_name, column_name, data_type, is_nullable, COALESCE(column_default, 'NULL')
    FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position;
SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname;
SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 2, 3;
SELECT 'trigger', tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 2, 3;
SELECT 'sequence', sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 2;
EOF

# ---------------------------------------------------------------- replay

for engine in "${ENGINES[@]}"; do
    if [[ $engine == postgres ]] && ! "$PSQL" -X -q "$PG_URL" -c 'SELECT 1' >/dev/null; then
        fail "postgres: cannot connect to $PG_URL (set SKIP_POSTGRES=1 to skip)"
        continue
    fi
    for store in "${STORES[@]}"; do
        # replay + data
        mapfile -t snap < <(plan_snapshot "$store" "$engine")
        mapfile -t deltas < <(plan_deltas "$store" "$engine" $((SNAPSHOT + 1)) 999999)
        fixture=()
        [[ -f $WORK/$store.fixture.sql ]] && fixture=("$WORK/$store.fixture.sql")
        if fresh_db "$engine" "replay_$store" db &&
            run_all "$engine" "$db" "$WORK/standins.sql" "${snap[@]}" "${fixture[@]}" "${deltas[@]}"; then
            pass "replay $engine $store: snapshot $SNAPSHOT (${#snap[@]} files) + ${#deltas[@]} deltas"
            if [[ $engine == sqlite ]]; then
                problems=$("$SQLITE3" "$db" 'PRAGMA foreign_key_check;' 'PRAGMA integrity_check;' | grep -vx ok)
                [[ -z $problems ]] || { echo "$problems"; fail "integrity $engine $store"; }
            fi
            if [[ -f $WORK/$store.check.sql ]]; then
                if query "$engine" "$db" "$WORK/$store.check.sql" >"$WORK/$store.$engine.out" &&
                    diff -u "$WORK/$store.expected" "$WORK/$store.$engine.out" >"$WORK/diff"; then
                    pass "data   $engine $store: $(wc -l <"$WORK/$store.$engine.out") rows as expected"
                else
                    sed 's/^/     /' "$WORK/diff"
                    fail "data   $engine $store"
                fi
            fi
        else
            fail "replay $engine $store"
        fi

        # history: old deltas rebuild the snapshot
        mapfile -t old < <(plan_deltas "$store" "$engine" 0 "$SNAPSHOT")
        ((${#old[@]} > 0)) || continue
        if fresh_db "$engine" "snap_$store" a && fresh_db "$engine" "hist_$store" b &&
            run_all "$engine" "$a" "$WORK/standins.sql" "${snap[@]}" &&
            run_all "$engine" "$b" "$WORK/standins.sql" "${snap[@]}" "$WORK/$store.revert.sql" "${old[@]}" &&
            query "$engine" "$a" "$WORK/fingerprint.$engine.sql" >"$WORK/fp.a" &&
            query "$engine" "$b" "$WORK/fingerprint.$engine.sql" >"$WORK/fp.b" &&
            diff -u "$WORK/fp.a" "$WORK/fp.b" >"$WORK/diff"; then
            pass "history $engine $store: ${#old[@]} old deltas rebuild snapshot $SNAPSHOT ($(wc -l <"$WORK/fp.a") schema facts)"
        else
            sed 's/^/     /' "$WORK/diff" 2>/dev/null
            fail "history $engine $store"
        fi
    done
done

# ---------------------------------------------------------------- coverage

missing=()
for f in $(cd "$TREE" && find . -type f ! -name strata.toml | sed 's|^\./||' | sort); do
    case $f in
        *.sql.sqlite) want=(sqlite) ;;
        *.sql.postgres) want=(postgres) ;;
        *) want=(sqlite postgres) ;;
    esac
    for e in "${want[@]}"; do
        [[ " ${ENGINES[*]} " == *" $e "* ]] || continue
        grep -qxF "$e $f" "$EXECUTED" || missing+=("$e $f")
    done
done
if ((${#missing[@]} == 0)); then
    pass "coverage: every file ran on each of its engines (${ENGINES[*]})"
else
    printf '     never ran: %s\n' "${missing[@]}"
    fail "coverage"
fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
