#!/usr/bin/env bash
# gen-functions-doc.sh [BUILD_DIR] [OUT]: writes docs/script-functions.md from the engine's
# own function table (`fathom script functions`). check-source.sh fails when the committed
# page differs from what this prints.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
{
	echo "# Script and chart functions"
	echo
	echo "Generated from the engine's function table by \`scripts/gen-functions-doc.sh\` (it"
	echo "runs \`fathom script functions\`); do not edit. These are the functions a load script"
	echo "and a chart expression may call; any other name is an error that names its line and"
	echo "column. Statements, prefixes and file formats are in \`src/script/README.md\`."
	echo
	"$build/fathom" script functions
} >"${2:-docs/script-functions.md}"
