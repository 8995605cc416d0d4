#!/usr/bin/env bash
# Regenerates the report gallery of docs/report.md: one PNG per chip family's diagram (docs/gallery/*.png),
# cut from a real `xpusim compare --html` report rendered by headless Chromium. Run it after changing the
# report's pictures (src/report/html_family.cpp and friends) and commit the PNGs.
# Usage: scripts/make-gallery.sh [build dir (default: build)] [output dir (default: docs/gallery)]
# Needs: a built xpusim, chromium (setup.sh --test installs it), the default model (scripts/fetch-default-model.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
out="${2:-$root/docs/gallery}"
xpusim="$build/xpusim"
[[ -x "$xpusim" ]] || { echo "make-gallery: $xpusim not found; build it first" >&2; exit 1; }
command -v chromium >/dev/null || { echo "make-gallery: chromium not installed (apt-get install chromium)" >&2; exit 1; }
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Fixed chips (not cpu-host, whose numbers depend on the machine running the script).
"$xpusim" compare --quiet --chips cpu-xeon-8480,gpu-h100-sxm,tpu-v5e,npu-apple-m4,lpu-groq,ue-ku5p \
  --html "$work/report.html" >/dev/null
# A 70B model on the LPU: hundreds of chips, drawn grouped.
"$xpusim" compare --quiet --chips lpu-groq --model llama-3.1-70b --html "$work/report-70b.html" >/dev/null
# picture -> window height of its screenshot
declare -A heights=([cpu]=430 [gpu]=460 [tpu]=470 [npu]=440 [lpu]=340 [ue]=420 [lpu-70b]=420)
for picture in cpu gpu tpu npu lpu ue lpu-70b; do
  family="${picture%-70b}"
  source_html="$work/report.html"
  [[ "$picture" == lpu-70b ]] && source_html="$work/report-70b.html"
  # Show only this family's card: every other section and card hidden, animations at rest (print rules
  # do not apply to --screenshot, so the page is told here).
  style="<style>body{margin:8px}h1,section:not(#sec-families){display:none}#sec-families>h2,#sec-families>p{display:none}"
  style+=".family-card:not([data-family=$family]){display:none}.family-card{max-width:560px}"
  style+=".pulse{animation:none!important;opacity:0}.pulse.rest{opacity:.85}.flow{animation:none!important}</style>"
  sed "s|</head>|$style</head>|" "$source_html" >"$work/$picture.html"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --window-size="600,${heights[$picture]}" \
    --screenshot="$out/$picture.png" "file://$work/$picture.html" >/dev/null 2>&1
  echo "$out/$picture.png: $(stat -c %s "$out/$picture.png") bytes"
done
