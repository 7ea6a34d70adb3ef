#!/bin/bash
# Submits a coopsweep sweep as a Slurm job array of SHARDS shards
# (cluster/array.sbatch) and a merge job (cluster/merge.sbatch) that starts
# when every shard has finished, and is cancelled if one fails.
#
#   SPEC=sweep.toml OUT=results.h5 SHARDS=64 cluster/submit-array.sh [sbatch options for both jobs]
#   e.g. cluster/submit-array.sh --partition=long --account=myproject
#
# Prints the two job ids. Knobs (environment):
SHARDS=${SHARDS:-16}                       # N: shards = array tasks; a few per node-hour of work is plenty
SPEC=${SPEC:-sweep.toml}                   # the sweep spec (TOML)
OUT=${OUT:-results.h5}                     # the merged results file
SHARD_DIR=${SHARD_DIR:-${OUT%.h5}.shards}  # where the shards go
COOPSWEEP=${COOPSWEEP:-coopsweep}          # coopsweep as the jobs will find it
ARRAY_OPTIONS=${ARRAY_OPTIONS:-}           # extra sbatch options for the array only (e.g. --cpus-per-task=32)
MERGE_OPTIONS=${MERGE_OPTIONS:-}           # extra sbatch options for the merge only

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SPEC OUT SHARD_DIR COOPSWEEP SHARDS
"$COOPSWEEP" validate "$SPEC" >/dev/null  # a bad spec fails here, not in every task
# shellcheck disable=SC2086  # the *_OPTIONS hold several words
array=$(sbatch --parsable --array="0-$((SHARDS - 1))" --export=ALL $ARRAY_OPTIONS "$@" "$here/array.sbatch")
array=${array%%;*}  # "id;cluster" on federated clusters
# shellcheck disable=SC2086
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --export=ALL $MERGE_OPTIONS "$@" \
          "$here/merge.sbatch")
merge=${merge%%;*}
echo "$array $merge"
echo "submitted: job array $array ($SHARDS shards of $SPEC into $SHARD_DIR), merge job $merge (-> $OUT)" >&2
