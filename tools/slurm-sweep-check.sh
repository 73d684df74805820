#!/usr/bin/env bash
# tools/slurm-sweep-check.sh - run a small sweep as a real 4-task Slurm job array, merge it, and
# check that the merged files equal those of the same sweep run unsharded, byte for byte.
#
#   tools/slurm-sweep-check.sh [GRID.toml]
#
# Needs a Slurm cluster that accepts jobs (on one machine: `tools/slurm-local.sh start` as root)
# and a release build (`cargo build --release`; ADAMGAP=/path/to/adamgap to use another binary).
# When sbatch is missing or no node is up it says so and exits 0 without running anything (it is
# not part of `cargo test`).  Default grid: the 6-cell example of docs/cluster.md (about 10 s).
# Exit 1 if the array job fails or the merged files differ. The work folder in /tmp is removed on
# success (KEEP=1 keeps it) and kept on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${ADAMGAP:-target/release/adamgap}")
[ -x "$BIN" ] || { echo "no binary at $BIN; run cargo build --release" >&2; exit 1; }
if ! command -v sbatch >/dev/null 2>&1; then
  echo "SKIP: sbatch not found (start a local cluster with tools/slurm-local.sh start, as root)"; exit 0
fi
if ! sinfo -h --responding -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated|completing)'; then
  echo "SKIP: no Slurm node is up (tools/slurm-local.sh start, as root)"; exit 0
fi
WORK=$(mktemp -d /tmp/adamgap-slurm.XXXXXX)
if [ $# -ge 1 ]; then cp "$1" "$WORK/grid.toml"; else
  cat > "$WORK/grid.toml" <<'GRID'
base = "paper"
[fixed]
"train.steps" = 300
"data.test_size" = 1000
[axes]
seed = [1, 2, 3]
"model.lambda" = [1e-5, 1e-3]
GRID
fi
echo "work folder: $WORK"
set -x
jid=$(sbatch --parsable --job-name=adamgap-sweep --array=0-3 --cpus-per-task=1 \
  --output="$WORK/task_%A_%a.log" \
  --wrap "$BIN sweep $WORK/grid.toml --out $WORK/array --threads 1")
set +x
for ((i = 0; i < 600; i++)); do
  [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] || { echo "array job $jid still queued after 600 s" >&2; exit 1; }
echo "array job $jid finished after ~${i} s; task logs:"
for f in "$WORK"/task_"${jid}"_*.log; do echo "== $(basename "$f")"; cat "$f"; done
[ "$(cat "$WORK"/task_"${jid}"_*.log | grep -c '; shard [0-3]/4: ')" -eq 4 ] || { echo "expected 4 shard lines" >&2; exit 1; }
set -x
"$BIN" sweep merge "$WORK/array"
"$BIN" sweep "$WORK/grid.toml" --out "$WORK/single" --threads 2 --quiet
"$BIN" sweep merge "$WORK/single"
set +x
status=0
for f in "$WORK"/single/sweep.jsonl "$WORK"/single/sweep.md "$WORK"/single/*.svg; do
  name=$(basename "$f")
  if cmp -s "$f" "$WORK/array/$name"; then echo "identical: $name ($(wc -c < "$f") bytes)"
  else echo "DIFFERENT: $name"; status=1; fi
done
sha256sum "$WORK"/array/sweep.jsonl "$WORK"/single/sweep.jsonl
if [ $status -eq 0 ]; then
  echo "OK: the 4-task array's merge equals the unsharded run's"
  if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept: $WORK"; fi
else
  echo "FAIL (work folder kept for inspection: $WORK)"
fi
exit $status
