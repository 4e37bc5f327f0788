#!/usr/bin/env bash
# Regenerate image/requirements.lock: Ferry's runtime dependencies resolved to exact versions
# (binary wheels only, for CPython 3.12 on x86_64; the same versions have 3.11 wheels).
# The image installs exactly these; run after changing `dependencies` in pyproject.toml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
pip=${PIP:-pip}
. "$here/platform.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t options < <(pip_target_options 312)
"$pip" install -q --dry-run --ignore-installed --target "$work/t" --report "$work/report.json" \
  "${options[@]}" "$repo"
{
  echo "# Ferry's runtime dependencies for the container image (image/lock.sh writes this file)."
  python3 - "$work/report.json" <<'PY'
import json
import sys

report = json.load(open(sys.argv[1]))
pins = sorted(
    f"{item['metadata']['name'].lower()}=={item['metadata']['version']}"
    for item in report["install"]
    if item["metadata"]["name"].lower() != "ferry"
)
print("\n".join(pins))
PY
} > "$here/requirements.lock"
echo "wrote $here/requirements.lock ($(grep -vc '^#' "$here/requirements.lock") packages)"
