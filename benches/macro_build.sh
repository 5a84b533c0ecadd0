#!/usr/bin/env bash
# Benchmark of include_migrations! build cost (not a test): a small crate embedding a
# generated tree of N deltas, against the floor (the same crate, with the same dependency on
# strata so that linking costs the same, embedding the same files with include_str!). For each: a clean build of the crate (dependencies already built) and a
# rebuild after editing one delta. Also the strata crate without the documented
# [profile.dev.build-override] (macro dependencies unoptimised), and `strata check` on the
# tree: one execution of the history, with the parsing and lints the macro does too, built
# with --release (optimised like the macro's dependencies under the build-override).
#
# Usage: bash benches/macro_build.sh [N ...]        (default: 100 1000)
# Prints a Markdown table (medians of 3 runs, seconds).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$root/target/bench-macro"
runs=3
sizes=("${@:-100}")
[ $# -gt 0 ] || sizes=(100 1000)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

gen_tree() { # dir n
  local dir=$1 n=$2 v
  for v in $(seq 1 "$n"); do
    mkdir -p "$dir/delta/$v"
    printf 'CREATE TABLE t_%d (id BIGINT PRIMARY KEY, name TEXT NOT NULL DEFAULT %s);\nINSERT INTO t_%d (id, name) VALUES (1, %s);\n' \
      "$v" "'x'" "$v" "'row $v'" > "$dir/delta/$v/01_t.sql"
  done
}

make_crate() { # dir kind n
  local dir=$1 kind=$2 n=$3 v
  mkdir -p "$dir/src"
  local deps="" profile=""
  case $kind in
    floor) deps="strata = { path = \"$root\" }"; profile=$'[profile.dev.build-override]\nopt-level = 2' ;;
    strata) deps="strata = { path = \"$root\" }"; profile=$'[profile.dev.build-override]\nopt-level = 2' ;;
    strata-noopt) deps="strata = { path = \"$root\" }" ;;
  esac
  printf '[package]\nname = "probe-%s-%s"\nversion = "0.0.0"\nedition = "2024"\n\n[dependencies]\n%s\n\n%s\n\n[workspace]\n' \
    "$kind" "$n" "$deps" "$profile" > "$dir/Cargo.toml"
  cp "$root/Cargo.lock" "$dir/Cargo.lock"
  if [ "$kind" = floor ]; then
    {
      echo "static FILES: &[&str] = &["
      for v in $(seq 1 "$n"); do echo "    include_str!(\"../../tree$n/delta/$v/01_t.sql\"),"; done
      echo "];"
      echo 'fn main() { println!("{} {}", FILES.len(), strata::Migrations::EMPTY.target_version); }'
    } > "$dir/src/main.rs"
  else
    printf 'static M: strata::Migrations = strata::include_migrations!("../tree%s");\nfn main() { println!("{}", M.stores[0].deltas.len()); }\n' "$n" > "$dir/src/main.rs"
  fi
}

echo "| deltas | crate | clean build (s) | rebuild after editing one delta (s) |"
echo "|---|---|---|---|"
for n in "${sizes[@]}"; do
  gen_tree "$work/tree$n" "$n"
  for kind in floor strata strata-noopt; do
    dir="$work/$kind$n"
    make_crate "$dir" "$kind" "$n"
    (cd "$dir" && cargo build --offline -q) # warm the dependencies (not measured)
    clean=(); rebuild=()
    for i in $(seq 1 $runs); do
      (cd "$dir" && cargo clean --offline -q -p "probe-$kind-$n")
      clean+=("$(cd "$dir" && secs cargo build --offline -q)")
      echo "-- edit $i" >> "$work/tree$n/delta/$((n / 2))/01_t.sql"
      rebuild+=("$(cd "$dir" && secs cargo build --offline -q)")
    done
    printf '| %s | %s | %.2f | %.2f |\n' "$n" "$kind" \
      "$(printf '%s\n' "${clean[@]}" | median)" "$(printf '%s\n' "${rebuild[@]}" | median)"
  done
  (cd "$root" && cargo build --offline -q --release -p strata-cli)
  check=()
  for i in $(seq 1 $runs); do check+=("$(secs "$CARGO_TARGET_DIR/release/strata" check "$work/tree$n")"); done
  printf '| %s | `strata check` (one execution of the history) | %.2f | |\n' "$n" "$(printf '%s\n' "${check[@]}" | median)"
done
