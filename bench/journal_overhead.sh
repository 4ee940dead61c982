#!/usr/bin/env bash
# The journal's cost on the README wave: builds the release binary, runs the happy wave
# against the built-in lab (`--lab --yes -q`) N times with the journal and N times with
# `--no-journal`, alternating, and prints min/median/max wall time of each and the
# journal file's size after one wave. Usage: bench/journal_overhead.sh [N] (default 5).
set -euo pipefail

n="${1:-5}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet
bin="$repo/target/release/cutover"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One wave; appends its wall time to $1.wall and its CPU time (user + system) to
# $1.cpu, in seconds. The rest is --journal FILE or --no-journal. The wave mostly waits
# for lab jobs (the same lab time each run), so the CPU time shows the journal's cost
# more plainly than the wall time.
wave() {
    local out="$1" times
    shift
    times=$( { TIMEFORMAT='%R %U %S'; time "$bin" run scripts/wave.rhai --lab --yes -q "$@" >/dev/null; } 2>&1 )
    read -r real user sys <<<"$times"
    echo "$real" >>"$out.wall"
    echo "$user + $sys" | bc >>"$out.cpu"
}

# Min, median and max of the numbers on stdin.
stats() {
    sort -n | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "min %.2f s  median %.2f s  max %.2f s  (n=%d)\n", v[1], m, v[NR], NR }'
}

for i in $(seq "$n"); do
    wave "$work/with" --journal "$work/journal-$i.db"
    wave "$work/without" --no-journal
done
printf 'wall, with the journal:       '; stats <"$work/with.wall"
printf 'wall, without (--no-journal): '; stats <"$work/without.wall"
printf 'CPU, with the journal:        '; stats <"$work/with.cpu"
printf 'CPU, without (--no-journal):  '; stats <"$work/without.cpu"
# Whatever SQLite left beside it (a write-ahead log) counts too.
size=$(cat "$work"/journal-1.db* | wc -c)
printf 'journal after one wave: %d bytes (%d KiB)\n' "$size" $((size / 1024))
