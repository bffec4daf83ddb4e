#!/usr/bin/env bash
# gen-functions-doc.sh [BUILD_DIR] [OUT]: writes docs/script-functions.md from the engine's
# own function table (`fathom script functions`), and after it the coverage of Qlik's
# function reference: each function of docs/qlik-functions.txt supported, partial or
# missing. check-source.sh fails when the committed page differs from what this prints.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	echo "# Script and chart functions"
	echo
	echo "Generated from the engine's function table by \`scripts/gen-functions-doc.sh\` (it"
	echo "runs \`fathom script functions\`); do not edit. These are the functions a load script"
	echo "and a chart expression may call; any other name is an error that names its line and"
	echo "column. Statements, prefixes and file formats are in \`src/script/README.md\`."
	echo
	"$build/fathom" script functions >"$tmp"
	cat "$tmp"
	# the coverage of Qlik's function reference (docs/qlik-functions.txt)
	awk -F' *[|] *' '
		NR == FNR {
			if (substr($0, 1, 1) == "|") { split($0, c, "|"); nm = c[2]; gsub(/^ +| +$/, "", nm); have[tolower(nm)] = 1 }
			next
		}
		/^#/ || /^$/ { next }
		/^= / { cats[++nc] = substr($0, 3); next }
		{ name[nc, ++n[nc]] = $1; note[nc, n[nc]] = $2; total++
		  if (!(tolower($1) in have)) missing++; else if ($2 != "") partial++ }
		END {
			printf "\n## Coverage of Qlik'"'"'s function reference\n\n"
			printf "Qlik'"'"'s script and chart functions by the categories of its reference "
			printf "(`docs/qlik-functions.txt`),\neach marked against the table above: %d functions, ", total
			printf "%d supported, %d of them in part, %d missing.\n", total - missing, partial, missing
			for (i = 1; i <= nc; i++) {
				printf "\n### %s\n\n| function | here |\n|---|---|\n", cats[i]
				for (k = 1; k <= n[i]; k++) {
					nm = name[i, k]
					st = !(tolower(nm) in have) ? "missing" : note[i, k] != "" ? "partial: " note[i, k] : "supported"
					printf "| %s | %s |\n", nm, st
				}
			}
		}' "$tmp" docs/qlik-functions.txt
} >"${2:-docs/script-functions.md}"
