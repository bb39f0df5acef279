#!/usr/bin/env bash
# Replaces the embedded provider catalog (src/models.json) with a new one.
#
# The catalog is models.dev's api.json with two fields added to every provider:
# `protocol` ("anthropic" or "openai") and `api` (the base URL, ending with the
# version segment). Wingman embeds it at build time; nothing is fetched at run time.
#
# Usage: scripts/update-catalog.sh path/to/models.json
set -euo pipefail
src=${1:?usage: scripts/update-catalog.sh path/to/models.json}
cd "$(dirname "$0")/.."
python3 - "$src" <<'PY'
import json, sys
catalog = json.load(open(sys.argv[1]))
bad = [name for name, p in catalog.items()
       if p.get("protocol") not in ("anthropic", "openai") or not p.get("api") or p.get("id") != name]
if bad:
    sys.exit(f"providers without a valid protocol/api/id: {', '.join(bad[:10])}")
print(f"{len(catalog)} providers, {sum(len(p.get('models', {})) for p in catalog.values())} models")
PY
cp "$src" src/models.json
echo "src/models.json updated; run cargo test to check it still parses"
