#!/usr/bin/env bash
# check-source.sh: the house rules a script can check (../shared/STYLE.md):
#  1. no banned functions in src/;
#  2. modules include only the public headers of their own layer or below;
#  3. every header compiles on its own;
#  4. code is formatted with .clang-format.
set -u
cd "$(dirname "$0")/.."
fail=0

banned=$(grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\s*\(' src --include='*.c' --include='*.h')
if [ -n "$banned" ]; then
	echo "banned functions (use str_copy, buf_printf, snprintf, str_to_i64):"
	echo "$banned"
	fail=1
fi

layer() {
	case $1 in
	core) echo 0 ;; db | share | crypto | http) echo 1 ;; repo | rules | cluster) echo 2 ;;
	sched | engine | proxy) echo 3 ;; ops | main) echo 4 ;; *) echo 9 ;;
	esac
}
for f in $(find src -name '*.[ch]'); do
	rel=${f#src/}
	mod=${rel%%/*}
	[ "$mod" = "$rel" ] && mod=main
	mine=$(layer "$mod")
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

cc=${CC:-cc}
flags=$(pkg-config --cflags libmicrohttpd gnutls jansson sqlite3 inih 2>/dev/null)
for h in $(find src -name '*.h'); do
	if ! echo "#include \"${h#src/}\"" | $cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-fsyntax-only -Isrc $flags -x c - 2>/tmp/hdr.$$; then
		echo "$h does not compile on its own:"
		cat /tmp/hdr.$$
		fail=1
	fi
done
rm -f /tmp/hdr.$$

if command -v clang-format >/dev/null; then
	files=$(find src tests/unit tests/fuzz bench -name '*.[ch]' 2>/dev/null)
	if ! clang-format --dry-run -Werror $files 2>/tmp/fmt.$$; then
		echo "files not formatted with .clang-format (run make format):"
		grep -o '^[^:]*\.[ch]' /tmp/fmt.$$ | sort -u
		fail=1
	fi
	rm -f /tmp/fmt.$$
fi

scripts/gen-errors-doc.sh /tmp/errors.$$
if ! cmp -s /tmp/errors.$$ docs/errors.md; then
	echo "docs/errors.md is out of date: run scripts/gen-errors-doc.sh"
	fail=1
fi
rm -f /tmp/errors.$$

if [ "$fail" -eq 0 ]; then echo "source checks: 1 passed, 0 failed"; fi
exit $fail
