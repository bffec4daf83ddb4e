# leaks.awk: from one allocation-failure run's output, prints the leaks the failed call made.
#
# A test whose assertion fails returns at once and leaves its own objects behind, so not
# every leak after a failed test is a defect. A leak is the failed call's when its
# allocation was made from the same lines of the test (every frame in tests/unit/, innermost
# first) as the allocation that failed; the test's other objects come from other lines. (Two
# calls on one line of a test cannot be told apart: write them on two.)
function site(line) {
	if (line !~ /\/tests\/unit\//)
		return ""
	sub(/.*\/tests\/unit\//, "", line)
	match(line, /^[^:]+:[0-9]+/) # file:line, without a column
	return substr(line, RSTART, RLENGTH) " "
}
function flush() {
	if (block != "" && direct && failed != "" && where == failed)
		print block "\n"
	block = ""
}
/^allocfail: allocation [0-9]+ / { in_fail = 1; next }
in_fail && /^ *#[0-9]+ / { failed = failed site($0); next }
in_fail { in_fail = 0 }
/^(Direct|Indirect) leak of / { flush(); block = $0; where = ""; direct = ($1 == "Direct"); next }
block != "" && /^ *#[0-9]+ / { block = block "\n" $0; where = where site($0); next }
block != "" && /^$/ { flush() }
END { flush() }
