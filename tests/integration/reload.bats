#!/usr/bin/env bats
# Reloads through the API: POST /qrs/app/{id}/reload runs the app's load script in a
# `fathom reload-worker` child process, reading and writing files only through folder data
# connections; success installs a new app generation, failure (a script error, a path out
# of its connection, the time limit) keeps the previous one; the log is readable.

load helpers

setup_file() {
	site_up
	node_conf_add '\n[engine]\nreload_timeout_s = 3\n'
	printf 'Region,Amount\nNorth,10\nSouth,20\nNorth,5\n' >"$SHARE/CustomData/sales.csv"
}

teardown_file() { site_down; }

@test "a reload runs the script, installs a new generation and keeps a log" {
	id=$(new_app Sales 'Sales: LOAD Region, Amount FROM [lib://CustomData/sales.csv]\n  (txt, utf8, embedded labels, delimiter is \x27,\x27);\nTotals: LOAD Region, Sum(Amount) AS Total RESIDENT Sales GROUP BY Region;\nSTORE Totals INTO [lib://CustomData/totals.qvd] (qvd);\nLET d = DocumentTitle() & \x27 is \x27 & DocumentName() & \x27, \x27 & QvdNoOfRecords(\x27lib://CustomData/totals.qvd\x27);\nTRACE all done: $(d);\n')
	s=$(api GET "/qrs/app/$id"); expect 200 "$s"
	size0=$(jqb .fileSize); [ "$(jqb .lastReloadTime)" = 1753-01-01T00:00:00.000Z ]
	gen0=$(sql "SELECT generation FROM app WHERE id = '$id'")
	s=$(api POST "/qrs/app/$id/reload"); expect 204 "$s"
	s=$(api GET "/qrs/app/$id"); expect 200 "$s"
	[ "$(jqb .lastReloadTime)" != 1753-01-01T00:00:00.000Z ]
	[ "$(jqb .fileSize)" -gt "$size0" ]
	gen1=$(sql "SELECT generation FROM app WHERE id = '$id'")
	[ "$gen1" != "$gen0" ]
	[ -f "$SHARE/CustomData/totals.qvd" ]
	s=$(api GET "/qrs/app/$id/reload/log"); expect 200 "$s"
	grep -q 'Totals << 2 rows' "$(BODY_FILE)"
	grep -q "all done: Sales is $id, 2" "$(BODY_FILE)"
	grep -q 'reload finished' "$(BODY_FILE)"
	check_consistency
}

@test "a script error fails the reload by line and column and keeps the previous data" {
	id=$(new_app Broken 'T: LOAD * INLINE [A\n1];\nU: LOAD Nope RESIDENT T;\n')
	gen0=$(sql "SELECT generation FROM app WHERE id = '$id'")
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"line 3, column 9: field not found: Nope"* ]]
	[[ "$(jqb .hint)" == *"reload/log"* ]]
	[ "$(sql "SELECT generation FROM app WHERE id = '$id'")" = "$gen0" ]
	s=$(api GET "/qrs/app/$id"); [ "$(jqb .lastReloadTime)" = 1753-01-01T00:00:00.000Z ]
	s=$(api GET "/qrs/app/$id/reload/log"); expect 200 "$s"
	grep -q 'error: line 3' "$(BODY_FILE)"
	check_consistency
}

@test "files outside the data connections are out of reach" {
	id=$(new_app Escape 'T: LOAD * FROM [lib://CustomData/../../../etc/passwd] (txt);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"leads out of its data connection"* ]]
	id=$(new_app Raw 'T: LOAD * FROM [/etc/passwd] (txt);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"data connections (lib://Name/path)"* ]]
	id=$(new_app NoConn 'T: LOAD * FROM [lib://Nowhere/x.csv] (txt);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"no folder data connection named Nowhere"* ]]
}

@test "no data connection reaches the node's folder, the share's apps or the system" {
	for f in / /etc /var "$SITE" "$SITE/certs" "$SHARE" "$SHARE/Apps" "$(dirname "$SITE")" \
		relative; do
		s=$(json POST /qrs/dataconnection "{\"name\":\"Bad\",\"connectionstring\":\"$f\"}")
		expect 400 "$s"
		[[ "$(jqb .message)" == *"may not reach"* || "$(jqb .message)" == *"absolute path"* ]]
	done
	[ "$(rows dataconnection "WHERE name = 'Bad'")" = 0 ]
	mkdir -p "$BATS_TEST_TMPDIR/data/other"
	printf 'a\n1\n' >"$BATS_TEST_TMPDIR/data/ok.csv"
	s=$(json POST /qrs/dataconnection "{\"name\":\"Data\",\"connectionstring\":\"$BATS_TEST_TMPDIR/data\"}")
	expect 201 "$s"; dc=$(jqb .id)
	s=$(api GET "/qrs/dataconnection/$dc"); expect 200 "$s"
	s=$(json PUT "/qrs/dataconnection/$dc" "$(jq -c '.connectionstring = "/etc"' "$(BODY_FILE)")")
	expect 400 "$s"
	# another node's folder (it holds node.conf) below a connection is not entered
	printf '[node]\n' >"$BATS_TEST_TMPDIR/data/other/node.conf"
	printf 'k\nSECRET\n' >"$BATS_TEST_TMPDIR/data/other/key.csv"
	id=$(new_app Other 'T: LOAD * FROM [lib://Data/other/key.csv] (txt, embedded labels);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"lies in a node's folder"* ]]
	id=$(new_app Fine 'T: LOAD * FROM [lib://Data/ok.csv] (txt, embedded labels);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 204 "$s"
	# a connection stored before the check (here, by hand) is left out of reloads
	sql "UPDATE dataconnection SET connectionstring = '$SITE' WHERE id = '$dc'" >/dev/null
	id=$(new_app Key 'T: LOAD * FROM [lib://Data/node.conf] (txt);\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"no folder data connection named Data"* ]]
	grep -q "data connection Data is left out of reloads" "$SITE/stderr.log"
	s=$(api DELETE "/qrs/dataconnection/$dc"); expect 204 "$s"
}

@test "a reload past the time limit is stopped and changes nothing" {
	id=$(new_app Slow 'SLEEP 600000;\nT: LOAD RecNo() AS N AUTOGENERATE 10;\n')
	gen0=$(sql "SELECT generation FROM app WHERE id = '$id'")
	s=$(api POST "/qrs/app/$id/reload"); expect 400 "$s"
	[[ "$(jqb .message)" == *"ran longer than 3 s and was stopped"* ]]
	[ "$(sql "SELECT generation FROM app WHERE id = '$id'")" = "$gen0" ]
	# and its log says so, where it would otherwise end at the SLEEP
	s=$(api GET "/qrs/app/$id/reload/log"); expect 200 "$s"
	tail -n 1 "$(BODY_FILE)" | grep -q "error: the reload ran longer than 3 s and was stopped"
	[ -z "$(ls "$SITE" | grep '^reload-')" ]
	check_consistency
}

@test "reload and its log answer 404 for an app that does not exist" {
	s=$(api POST "/qrs/app/6baa5c73-af76-48c8-a5e8-c185c86a885c/reload"); expect 404 "$s"
	s=$(api GET "/qrs/app/6baa5c73-af76-48c8-a5e8-c185c86a885c/reload/log"); expect 404 "$s"
}

@test "POST /qrs/app makes an app with no script and no data, which reloads to nothing" {
	s=$(json POST /qrs/app '{"name":"Empty one","description":"made by the API"}'); expect 201 "$s"
	id=$(jqb .id)
	[ "$(jqb .description)" = "made by the API" ]; [ "$(jqb .fileSize)" -gt 0 ]
	s=$(api POST "/qrs/app/$id/reload"); expect 204 "$s"
	s=$(api GET "/qrs/app/$id/reload/log"); expect 200 "$s"
	grep -q 'reload finished.*0 tables' "$(BODY_FILE)"
	s=$(json POST /qrs/app '{"description":"no name"}'); expect 400 "$s"
	s=$(json POST /qrs/app '{"name":"a/b"}'); expect 400 "$s"
	check_consistency
}

@test "a node runs with huge pages for its large memory, and reloads under it as before" {
	grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null &&
		skip "the kernel gives no transparent huge pages here"
	# the node re-ran itself with glibc's malloc advising them (an app's columns and states);
	# a sanitized node does not, since ASan's malloc reads no glibc setting (make check
	# runs this suite sanitized on SQLite, and with the normal build on PostgreSQL)
	if [ "${FATHOM_SANITIZED:-OFF}" = ON ]; then
		! tr '\0' '\n' <"/proc/$(cat "$SITE/pid")/environ" | grep -q '^GLIBC_TUNABLES=' || false
	else
		tr '\0' '\n' <"/proc/$(cat "$SITE/pid")/environ" |
			grep -qx 'GLIBC_TUNABLES=glibc.malloc.hugetlb=1'
	fi
	# a reload worker inherits it (and does not run itself again): it reloads as before
	id=$(new_app Huge 'T: LOAD 1 AS x AUTOGENERATE 1;\n')
	s=$(api POST "/qrs/app/$id/reload"); expect 204 "$s"
}
