#!/usr/bin/env bats
# The management console with nodes that join: a site on PostgreSQL, its administrator in
# Debian's chromium (tests/integration/console.mjs) approving a node that asked to join,
# the new node running and then given the central role, and a node added and approved from
# the console. The web suite (web/test/qmc.test.js) covers the rest of the console on one
# node; this suite needs a database two nodes share.

load helpers

setup_file() {
	[ -f "$(dirname "$FATHOM")/web/qmc/index.html" ] || return 0
	pg_up
	export D1=$BATS_FILE_TMPDIR/node1 D2=$BATS_FILE_TMPDIR/node2 SH=$BATS_FILE_TMPDIR/share
	export P1 PX1 ADMIN_PW='console admin password'
	P1=$(free_port)
	PX1=$(free_port)
	printf '%s\n' "$ADMIN_PW" >"$BATS_FILE_TMPDIR/admin.pw"
	"$FATHOM" site create --dir "$D1" --share "$SH" --repository-port "$P1" --engine-port "$(free_port)" \
		--proxy-port "$PX1" --proxy-http-port 0 --proxy-api-port "$(free_port)" --hostname localhost \
		--name node1 --db "$DB_URL" --admin admin --admin-password-file "$BATS_FILE_TMPDIR/admin.pw" >/dev/null
	start_node "$D1"
}

teardown_file() {
	[ -f "$D2/pid" ] && stop_node "$D2" || true
	[ -f "$D1/pid" ] && stop_node "$D1" || true
	pg_down
}

@test "the administrator approves a joining node, sees it run, makes it central, and adds another" {
	[ -f "$(dirname "$FATHOM")/web/qmc/index.html" ] || skip "the console is not built beside $FATHOM"
	export JOIN_ARGS="--repository-port $(free_port) --engine-port $(free_port) --proxy-port $(free_port) --proxy-http-port 0 --proxy-api-port $(free_port) --hostname localhost"
	export ALLOW_ROOT=$(root_flag)
	run node "$BATS_TEST_DIRNAME/console.mjs"
	echo "$output"
	[ "$status" -eq 0 ]
	# what the page did, as the database holds it
	node2=$(pg_sql fathom "SELECT id FROM servernodeconfiguration WHERE name = 'node2'")
	[ "$(pg_sql fathom "SELECT holder FROM central_lease")" = "$node2" ]
	[ "$(pg_sql fathom "SELECT failover_candidate FROM servernodeconfiguration WHERE id = '$node2'")" = 1 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM node_registration WHERE node_id = '$node2'")" = 0 ]
	node3=$(pg_sql fathom "SELECT id FROM servernodeconfiguration WHERE name = 'node3'")
	[ "$(pg_sql fathom "SELECT state FROM node_registration WHERE node_id = '$node3'")" = approved ]
	[ "$(pg_sql fathom "SELECT count(*) FROM servernodeconfiguration WHERE name = 'node4'")" = 0 ]
	# the page's max_connections is the server's, its count a plausible one
	[ "$(sed -n 's/^connections [0-9]* //p' <<<"$output")" = "$(pg_sql fathom 'SHOW max_connections')" ]
	n=$(sed -n 's/^connections \([0-9]*\) .*/\1/p' <<<"$output"); [ "$n" -ge 2 ]
	# node3's password, read off the page, is the one its join needs
	pw=$(sed -n 's/^password3 //p' <<<"$output")
	[ ${#pw} -ge 16 ]
	run "$FATHOM" node join --dir "$BATS_TEST_TMPDIR/node3" --share "$SH" --db "$DB_URL" --name node3 \
		$JOIN_ARGS --password "$pw"
	[ "$status" -eq 0 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM node_registration WHERE node_id = '$node3'")" = 0 ]
}
