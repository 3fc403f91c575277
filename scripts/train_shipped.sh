#!/usr/bin/env bash
# Train the shipped default model from the shared data in one command (MODEL_CARD.md):
#   MOODNET_DATA=../shared/data bash scripts/train_shipped.sh [--install]
# 1. manifests of the MIREX-like and 4Q sets; 2. `moodnet train default --set distill=true`:
# musicnn (MSD) teacher embeddings of every clip's 3 s patches and of one augmented copy of
# every clip's log-mel (time stretch, band shift, EQ; the slow step, cached in the feature
# cache), the student distilled on all that (no labels), then the linear head fitted on all
# 450 4Q clips (C and scale by inner artist-grouped CV) and the lyrics branches on the
# MIREX-like lyrics; its out-of-fold estimate comes from bench/kfold_default.py. Everything
# goes to ./work (ignored by git); --install copies the model (which carries its student)
# into the package.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MOODNET_DATA:?set MOODNET_DATA to the shared data folder, e.g. ../shared/data}"
export MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000
D=$MOODNET_DATA
W=${WORK:-work}
MODEL_ID=${MODEL_ID:-moodnet-default-7}
mkdir -p "$W"
moodnet data manifest mirex "$D/mirex_multimodal" --out "$W/mirex.jsonl" --lexicons "$D/lexicons" --seed 0
moodnet data manifest 4q "$D/4q_dev" --out "$W/4q.jsonl" --lexicons "$D/lexicons" --seed 0
moodnet train default --set manifest="$W/4q.jsonl" --set cache_dir="$W/fastcache" \
    --set distill=true --set "distill_manifests=[$W/mirex.jsonl]" \
    --set 'fit_splits=[train, validation, test]' \
    --set model_id="$MODEL_ID" --set lyrics_manifest="$W/mirex.jsonl" \
    --set lexicons="$D/lexicons" --out "$W/runs/default"
if [ "${1:-}" = "--install" ]; then
    cp "$W/runs/default/checkpoint.json" "$W/runs/default/model.safetensors" \
        src/moodnet/assets/models/default/
fi
