#!/usr/bin/env bash
# gen-errors-doc.sh: writes docs/errors.md from src/core/errors.def (the one error table).
# check-source.sh fails when the committed page differs from what this prints.
set -euo pipefail
cd "$(dirname "$0")/.."
{
	echo "# Error codes"
	echo
	echo "Generated from \`src/core/errors.def\` by \`scripts/gen-errors-doc.sh\`; do not edit."
	echo "API errors answer a JSON body \`{\"status\", \"code\", \"message\", \"detail\"?, \"hint\"?,"
	echo "\"position\"?}\`; \`code\` is the name below, \`message\` says what failed."
	echo
	echo "| code | HTTP status | JSON-RPC code | default message |"
	echo "|---|---|---|---|"
	sed -n 's/^X(\([A-Z_]*\), *\([0-9]*\), *\(-\?[0-9]*\), *"\(.*\)")$/| \1 | \2 | \3 | \4 |/p' \
		src/core/errors.def
} >"${1:-docs/errors.md}"
