#!/usr/bin/env bats
# Database failover: two real PostgreSQL 15 instances in synchronous streaming replication,
# two nodes whose connection string names both hosts with target_session_attrs=read-write.
# The primary dies (immediate shutdown), the standby is promoted, and the nodes carry on
# against it with no configuration change; no acknowledged write is lost.

load helpers

setup_file() {
	pg_up
	# The standby: a base backup of the primary that streams from it.
	export SBDIR SBPORT
	SBDIR=$(mktemp -d /tmp/fathom-pg-standby-XXXXXX)
	chmod 755 "$SBDIR"
	[ "$(id -u)" -eq 0 ] && chown postgres "$SBDIR"
	as_pg "$PGBIN/pg_basebackup" -h "$PGDIR" -p "$PGPORT" -U postgres -D "$SBDIR/data" -R -c fast \
		-X stream >"$SBDIR/basebackup.log" 2>&1 || { cat "$SBDIR/basebackup.log" >&2; return 1; }
	SBPORT=$(free_port)
	as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -l "$SBDIR/server.log" -w \
		-o "-p $SBPORT -k $SBDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
	# Synchronous: a commit is acknowledged only once the standby has it. Set after the
	# base backup, so that the standby, once promoted, does not wait for a standby itself.
	pg_sql postgres "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
	pg_sql postgres "SELECT pg_reload_conf()" >/dev/null
	for _ in $(seq 1 100); do
		[ "$(pg_sql postgres "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] && break
		sleep 0.1
	done
	[ "$(pg_sql postgres "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ]

	export SH=$BATS_FILE_TMPDIR/share D1=$BATS_FILE_TMPDIR/node1 D2=$BATS_FILE_TMPDIR/node2 P1 P2
	P1=$(free_port)
	P2=$(free_port)
	DB_URL="postgresql://fathom:secret@127.0.0.1:$PGPORT,127.0.0.1:$SBPORT/fathom?target_session_attrs=read-write"
	"$FATHOM" site create --dir "$D1" --share "$SH" --repository-port "$P1" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--name node1 --db "$DB_URL" >/dev/null
	start_node "$D1"
	join_node "$D2" "$P2" node2 "$D1"
	start_node "$D2"
}

teardown_file() {
	for d in "$D2" "$D1"; do
		[ -f "$d/pid" ] && stop_node "$d" || true
	done
	as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$SBDIR"
	pg_down
}

# sb_sql SQL: a query on the standby (the new primary after the switch).
sb_sql() {
	as_pg "$PGBIN/psql" -h "$SBDIR" -p "$SBPORT" -U postgres -d fathom -tA -v ON_ERROR_STOP=1 -c "$1"
}

@test "node.conf keeps both hosts and the session attribute" {
	grep -q "host='127.0.0.1,127.0.0.1'" "$D1/node.conf"
	grep -q "port='$PGPORT,$SBPORT'" "$D1/node.conf"
	grep -q "target_session_attrs='read-write'" "$D1/node.conf"
	grep -q "target_session_attrs='read-write'" "$D2/node.conf"
}

@test "the primary dies and the standby is promoted: both nodes carry on with no change, no acknowledged write lost" {
	writer "$D1" "$P1" tag a & w1=$!
	writer "$D2" "$P2" tag b & w2=$!
	sleep 2
	[ "$(sb_sql 'SELECT pg_is_in_recovery()')" = t ]
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null
	sleep 2
	as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -w promote >/dev/null
	[ "$(sb_sql 'SELECT pg_is_in_recovery()')" = f ]
	# Both nodes write again without a restart or a configuration change.
	for w in a b; do
		before=$(wc -l <"$BATS_TEST_TMPDIR/writes.$w")
		for _ in $(seq 1 200); do
			[ "$(tail -n +"$((before + 1))" "$BATS_TEST_TMPDIR/writes.$w" | grep -c '^201 ')" -ge 3 ] && break
			sleep 0.1
		done
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$w1" "$w2"
	kill -0 "$(cat "$D1/pid")"
	kill -0 "$(cat "$D2/pid")"
	cat "$BATS_TEST_TMPDIR"/writes.* >"$BATS_TEST_TMPDIR/all"
	[ "$(grep -vc '^201 \|^503 ' "$BATS_TEST_TMPDIR/all")" = 0 ]
	[ "$(grep -c '^503 ' "$BATS_TEST_TMPDIR/all")" -gt 0 ]
	[ "$(tail -n 3 "$BATS_TEST_TMPDIR/writes.a" | grep -c '^201 ')" = 3 ]
	[ "$(tail -n 3 "$BATS_TEST_TMPDIR/writes.b" | grep -c '^201 ')" = 3 ]
	# Synchronous replication: everything acknowledged before the switch is on the new
	# primary, and so is everything after.
	grep '^201 ' "$BATS_TEST_TMPDIR/all" | cut -d' ' -f2 | sort >"$BATS_TEST_TMPDIR/acked"
	sb_sql "SELECT name FROM tag WHERE name LIKE 'a-%' OR name LIKE 'b-%'" | sort >"$BATS_TEST_TMPDIR/stored"
	[ -z "$(comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/stored")" ]
	# Reads, heartbeats and the change-log listeners follow as well.
	s=$(SITE=$D2 BASE=https://localhost:$P2 api GET /qrs/servicestatus); expect 200 "$s"
	for _ in $(seq 1 100); do
		[ "$(sb_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fathom % listener'")" = 2 ] && break
		sleep 0.1
	done
	[ "$(sb_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fathom % listener'")" = 2 ]
	sleep 3
	s=$(SITE=$D1 BASE=https://localhost:$P1 api GET /qrs/servicestatus); expect 200 "$s"
	[ "$(jqb '[.[].serviceState] | join(",")')" = "2,2" ]
}
