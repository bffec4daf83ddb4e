#!/usr/bin/env bash
# check-source.sh: the house rules a script can check (../shared/STYLE.md):
#  1. no banned functions in src/, tests/ or bench/;
#  2. modules include only the public headers of their own layer or below;
#  3. every external symbol of a module starts with the module's name;
#  4. no function is longer than 100 lines;
#  5. every header compiles on its own;
#  6. code is formatted with .clang-format;
#  7. docs/errors.md is generated from core/errors.def, docs/script-functions.md from the
#     engine's function table (when BUILD_DIR holds the binary);
#  8. no bats assertion that cannot fail: a line "! command" is exempt from errexit, so
#     bats passes it whatever it returns; write "! command || false" (or use run).
#
# usage: scripts/check-source.sh [BUILD_DIR]
# Check 3 reads the objects of BUILD_DIR (default: build), so it runs after a build; without
# them it says so and fails.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
fail=0
code_dirs="src tests bench"

# 1. Banned functions. strtol and friends are unchecked (no range, no end, errno): use
# str_to_i64 or str_to_i64_prefix, which core builds on them.
banned='\b(strcpy|strcat|strncat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|system|popen)\s*\('
unchecked='\b(strtol|strtoll|strtoul|strtoull)\s*\('
# bench/out is scratch (the benchmarks' sites, and the source of a build to compare with)
found=$(grep -rnE "$banned" $code_dirs --include='*.c' --include='*.h' | grep -v '^bench/out/')
found+=$(grep -rnE "$unchecked" $code_dirs --include='*.c' --include='*.h' |
	grep -v '^src/core/' | grep -v '^bench/out/')
if [ -n "$found" ]; then
	echo "banned functions (use str_copy, buf_printf, snprintf, str_to_i64, proc_run):"
	echo "$found"
	fail=1
fi

# 8. (early, it needs no build) bats lines that assert nothing.
found=$(grep -rnE '^\s*! ' tests --include='*.bats' | grep -vE '\|\|' || true)
if [ -n "$found" ]; then
	echo "bats lines that cannot fail (\"! cmd\" is exempt from errexit: add \"|| false\"):"
	echo "$found"
	fail=1
fi

# 2. Layers, from the bottom. A module may include the public header of a module of its own
# layer or below. The engine is four modules in a chain: data < script < model < qix.
layer() {
	case $1 in
	core) echo 0 ;;
	db | share | crypto | http) echo 10 ;;
	data) echo 11 ;;
	script) echo 12 ;;
	model) echo 13 ;;
	repo | rules | cluster) echo 20 ;;
	sched | qix | proxy) echo 30 ;;
	ops | main) echo 40 ;;
	*) echo 99 ;;
	esac
}
for f in $(find src -name '*.[ch]'); do
	rel=${f#src/}
	mod=${rel%%/*}
	[ "$mod" = "$rel" ] && mod=main
	mine=$(layer "$mod")
	if [ "$mine" = 99 ]; then
		echo "$f: module $mod has no place in the layer order (scripts/check-source.sh)"
		fail=1
	fi
	while read -r inc; do
		imod=${inc%%/*}
		[ "$imod" = "$mod" ] && continue
		base=${inc#*/}
		if [ "$base" != "$imod.h" ]; then
			echo "$f includes $inc: other modules may include only $imod/$imod.h"
			fail=1
		fi
		if [ "$(layer "$imod")" -gt "$mine" ]; then
			echo "$f ($mod, layer $mine) includes $inc from a higher layer"
			fail=1
		fi
	done < <(sed -n 's/^#include "\([a-z]*\/[a-z_]*\.h\)".*/\1/p' "$f")
done

# 3. Symbol prefixes: what a module's objects export starts with "<module>_". core is the
# exception: its short nouns are the whole code base's vocabulary, listed here.
core_words='arena buf cal conf crash dir err file json log mem metrics path proc sleep str time tz utf8 uuid'
objs="$build/CMakeFiles/fathom_lib.dir/src"
if [ ! -d "$objs" ]; then
	echo "no objects in $objs: build first (make build), or name the build folder"
	fail=1
else
	# (one nm for all of them: nm takes about 70 ms to start here, 9 s for 130 objects one
	# by one)
	bad=$(nm --defined-only -g -A "$objs"/*/*.o | awk -v words="$core_words" -v objs="$objs/" '
		BEGIN { n = split(words, w, " "); for (i = 1; i <= n; i++) ok[w[i] "_"] = 1 }
		NF == 3 {
			# "OBJS/MODULE/FILE.c.o:ADDRESS"
			path = substr($1, length(objs) + 1); sub(/\.o:[^:]*$/, "", path)
			mod = path; sub(/\/.*/, "", mod)
			src = "src/" path
			if (!(src in seen)) { seen[src] = 1; gone[src] = (getline line < src) < 0; close(src) }
			if (gone[src]) next # left from a moved file
			s = $3
			if (index(s, mod "_") == 1) next
			if (mod == "core") { p = s; sub(/_.*/, "_", p); if (p in ok) next }
			print src ": " s " does not start with " mod "_"
		}')
	if [ -n "$bad" ]; then
		echo "external symbols without their module's prefix:"
		echo "$bad"
		fail=1
	fi
fi

# 4. Function length: a function runs from its signature (a line that starts at column 0
# and is not a declaration) to the "}" at column 0 that closes it; clang-format puts both
# there. Over 100 lines is too long (STYLE.md habit 4).
long=$(find src -name '*.c' | sort | xargs awk -v max=100 '
	/^[A-Za-z_].*\(/ && !/;[ \t]*$/ { sig = FNR; name = $0; sub(/\(.*/, "", name)
		n = split(name, w, /[ \t*]+/); name = w[n] }
	/^\{$/ { start = sig ? sig : FNR }
	/^\}/ { if (start && FNR - start + 1 > max)
			printf "%s: %s is %d lines long; split it below 100\n", FILENAME, name, FNR - start + 1
		start = 0; sig = 0 }')
if [ -n "$long" ]; then
	echo "$long"
	fail=1
fi

# 5. Headers compile alone.
cc=${CC:-cc}
flags=$(pkg-config --cflags gnutls jansson sqlite3 inih 2>/dev/null)
for h in $(find src -name '*.h'); do
	if ! echo "#include \"${h#src/}\"" | $cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-fsyntax-only -Isrc $flags -x c - 2>/tmp/hdr.$$; then
		echo "$h does not compile on its own:"
		cat /tmp/hdr.$$
		fail=1
	fi
done
rm -f /tmp/hdr.$$

# 6. Format.
if command -v clang-format >/dev/null; then
	files=$(find src tests/unit tests/fuzz tests/diff bench -path bench/out -prune -o -name '*.[ch]' -print \
		2>/dev/null)
	if ! clang-format --dry-run -Werror $files 2>/tmp/fmt.$$; then
		echo "files not formatted with .clang-format (run make format):"
		grep -o '^[^:]*\.[ch]:' /tmp/fmt.$$ | tr -d : | sort -u
		fail=1
	fi
	rm -f /tmp/fmt.$$
fi

# 7. The errors table's docs.
scripts/gen-errors-doc.sh /tmp/errors.$$
if ! cmp -s /tmp/errors.$$ docs/errors.md; then
	echo "docs/errors.md is out of date: run scripts/gen-errors-doc.sh"
	fail=1
fi
rm -f /tmp/errors.$$
if [ -x "$build/fathom" ]; then
	scripts/gen-functions-doc.sh "$build" /tmp/functions.$$
	if ! cmp -s /tmp/functions.$$ docs/script-functions.md; then
		echo "docs/script-functions.md is out of date: run scripts/gen-functions-doc.sh"
		fail=1
	fi
	rm -f /tmp/functions.$$
fi

if [ "$fail" -eq 0 ]; then echo "source checks: 1 passed, 0 failed"; fi
exit $fail
