#!/usr/bin/env bash
# Train the shipped default model from the shared data in one command, evaluate it on both
# test splits and (with --install) copy it into the package.
#   MOODNET_DATA=../shared/data bash scripts/train_shipped.sh [--install]
# Manifests, cache and the run go to ./work (ignored by git). See MODEL_CARD.md.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MOODNET_DATA:?set MOODNET_DATA to the shared data folder, e.g. ../shared/data}"
export MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000
D=$MOODNET_DATA
W=${WORK:-work}
mkdir -p "$W"
moodnet data manifest mirex "$D/mirex_multimodal" --out "$W/mirex.jsonl" --lexicons "$D/lexicons" --seed 0
moodnet data manifest 4q "$D/4q_dev" --out "$W/4q.jsonl" --lexicons "$D/lexicons" --seed 0
moodnet data merge "$W/mirex.jsonl" "$W/4q.jsonl" --label quadrant --out "$W/all.jsonl"
moodnet extract "$W/all.jsonl" --cache "$W/cache" --config features_musicnn \
    --no-descriptors
moodnet train shipped --set data.manifest="$W/all.jsonl" \
    --set data.cache_dir="$W/cache" --out "$W/runs/shipped"
moodnet evaluate "$W/runs/shipped" --manifest "$W/4q.jsonl" --out "$W/runs/shipped/eval_4q_test.json"
moodnet data merge "$W/mirex.jsonl" --label quadrant --out "$W/mirex_q.jsonl"
moodnet evaluate "$W/runs/shipped" --manifest "$W/mirex_q.jsonl" \
    --out "$W/runs/shipped/eval_mirex_test.json"
if [ "${1:-}" = "--install" ]; then
    cp "$W/runs/shipped/checkpoint.json" "$W/runs/shipped/model.safetensors" \
        src/moodnet/assets/models/default/
fi
