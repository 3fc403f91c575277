#!/usr/bin/env bash
# Reproduce the committed result tables under docs/results/ from a clean clone.
#   MOODNET_DATA=../shared/data bash scripts/reproduce_tables.sh [mirex 4q mirex_musicnn 4q_musicnn]
# Manifests and the feature cache go to ./work (ignored by git); tables to docs/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MOODNET_DATA:?set MOODNET_DATA to the shared data folder, e.g. ../shared/data}"
export MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000
WORK=${WORK:-work}
mkdir -p "$WORK"
LEX="$MOODNET_DATA/lexicons"

table_mirex() {
    moodnet data manifest mirex "$MOODNET_DATA/mirex_multimodal" --lexicons "$LEX" \
        --split artist --seed 0 --out "$WORK/mirex.jsonl"
    moodnet extract "$WORK/mirex.jsonl" --cache "$WORK/cache"
    moodnet table --manifest "$WORK/mirex.jsonl" --cache "$WORK/cache" \
        --config table --out docs/results/mirex \
        --modalities audio lyrics bimodal late svm_audio svm_lyrics \
        --set data.lexicon_dir="$LEX/warriner2013"
}

table_4q() {
    moodnet data manifest 4q "$MOODNET_DATA/4q_dev" --lexicons "$LEX" \
        --split artist --seed 0 --out "$WORK/4q.jsonl"
    moodnet extract "$WORK/4q.jsonl" --cache "$WORK/cache"
    moodnet table --manifest "$WORK/4q.jsonl" --cache "$WORK/cache" \
        --config table --out docs/results/4q --modalities audio svm_audio
}

# The stronger columns: the frozen pretrained musicnn embedding (+ lyrics bag, mid-level fusion).
table_mirex_musicnn() {
    moodnet extract "$WORK/mirex.jsonl" --cache "$WORK/cache" --config features_musicnn \
        --no-descriptors
    moodnet table --manifest "$WORK/mirex.jsonl" --cache "$WORK/cache" \
        --config table_musicnn --out docs/results/mirex_musicnn \
        --audio-model musicnn_head --lyrics-model lyrics_bag --modalities audio lyrics bimodal late
}

table_4q_musicnn() {
    moodnet extract "$WORK/4q.jsonl" --cache "$WORK/cache" --config features_musicnn \
        --no-descriptors
    moodnet table --manifest "$WORK/4q.jsonl" --cache "$WORK/cache" \
        --config table_musicnn --out docs/results/4q_musicnn \
        --audio-model musicnn_head --modalities audio
}

for name in "${@:-mirex 4q}"; do
    for one in $name; do "table_$one"; done
done
