#!/usr/bin/env bats
# Database outages on a three-node site. Every node keeps a cache of the answers it gave and
# follows the change log (LISTEN/NOTIFY, polling when it cannot listen). While PostgreSQL is
# down, cached reads are answered (marked stale), writes get 503 with Retry-After, no node
# exits, and every node recovers by itself when the database returns. A change acknowledged
# through one node drops every other node's cached answer for it.

load helpers

on_node() { # on_node N api|json ARGS...: a request to node N (1..3)
	local n=$1 d p
	shift
	d=$(eval echo "\$D$n")
	p=$(eval echo "\$P$n")
	SITE=$d BASE=https://localhost:$p "$@"
}
node_api() { on_node "$1" api "${@:2}"; }
node_json() { on_node "$1" json "${@:2}"; }

# log_lines N: how many lines node N's log has.
log_lines() {
	wc -l <"$(eval echo "\$D$1")/stderr.log"
}

# wait_log N PATTERN [AFTER]: waits up to 20 s for a line of node N's log past line AFTER
# to match an extended regex.
wait_log() {
	local d
	d=$(eval echo "\$D$1")
	for _ in $(seq 1 200); do
		tail -n +"$((${3:-0} + 1))" "$d/stderr.log" | grep -qE "$2" && return 0
		sleep 0.1
	done
	echo "node $1 never logged /$2/; its log:" >&2
	tail -n 20 "$d/stderr.log" >&2
	return 1
}

# restart_node DIR: stops a node that setup_file started (not a child of this shell, so
# stop_node cannot wait for it) and starts it again.
restart_node() {
	local pid
	pid=$(cat "$1/pid")
	kill -TERM "$pid"
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || false
	rm -f "$1/pid"
	start_node "$1"
}

# listeners: how many nodes listen to the change log now.
listeners() {
	pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'fathom % listener'"
}

# all_listening: waits until the three nodes listen again (after an outage).
all_listening() {
	for _ in $(seq 1 200); do
		[ "$(listeners)" = 3 ] && return 0
		sleep 0.1
	done
	return 1
}

setup_file() {
	pg_up
	export SH=$BATS_FILE_TMPDIR/share D1 D2 D3 P1 P2 P3
	for i in 1 2 3; do
		eval "D$i=$BATS_FILE_TMPDIR/node$i"
		eval "P$i=$(free_port)"
	done
	"$FATHOM" site create --dir "$D1" --share "$SH" --repository-port "$P1" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--name node1 --db "$DB_URL" >/dev/null
	start_node "$D1"
	join_node "$D2" "$P2" node2 "$D1"
	join_node "$D3" "$P3" node3 "$D1"
	start_node "$D2"
	start_node "$D3"
}

teardown_file() {
	for d in "$D3" "$D2" "$D1"; do
		[ -f "$d/pid" ] && stop_node "$d" || true
	done
	pg_down
}

@test "every node's pool and listener are named for the node in pg_stat_activity" {
	for i in 1 2 3; do
		[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node$i listener'")" = 1 ]
		[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node$i'")" -ge 1 ]
	done
}

@test "a change through one node drops the other nodes' cached answers (notifications)" {
	s=$(node_json 1 POST /qrs/tag '{"name":"n-0"}'); expect 201 "$s"
	id=$(jqb .id); md=$(jqb .modifiedDate)
	for n in 2 3; do
		s=$(node_api $n GET "/qrs/tag/$id"); expect 200 "$s"
		[ "$(jqb .name)" = n-0 ]
	done
	s=$(node_api 3 GET /qrs/servicecluster/full); expect 200 "$s"
	cp "$(BODY_FILE)" "$BATS_TEST_TMPDIR/cluster.json"
	s=$(node_json 1 PUT "/qrs/tag/$id" "{\"name\":\"n-1\",\"modifiedDate\":\"$md\"}"); expect 200 "$s"
	# Node1 announces after its commit (asynchronously, by design: docs/admin.md); wait
	# until it has, and give the listeners a moment to read it, before the outage.
	for _ in $(seq 1 100); do
		[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node1' AND query LIKE '%pg_notify%'")" -ge 1 ] && break
		sleep 0.05
	done
	sleep 0.2
	pg_stop
	# The changed tag was dropped everywhere: no node answers its old name.
	for n in 2 3; do
		s=$(node_api $n GET "/qrs/tag/$id"); expect 503 "$s"
	done
	# An answer no change touched is served, marked stale; one never given is not.
	s=$(node_api 3 GET /qrs/servicecluster/full -D "$BATS_TEST_TMPDIR/h"); expect 200 "$s"
	cmp "$(BODY_FILE)" "$BATS_TEST_TMPDIR/cluster.json"
	grep -qi '^X-Fathom-Cache: stale' "$BATS_TEST_TMPDIR/h"
	grep -qi '^Warning: 110' "$BATS_TEST_TMPDIR/h"
	s=$(node_api 2 GET /qrs/servicecluster/full); expect 503 "$s"
	# a load balancer asking node 2's proxy hears that its database is away
	local px2
	px2=https://localhost:$(conf_port "$D2" proxy)/health
	s=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' --cacert "$D2/certs/root.pem" "$px2")
	expect 503 "$s"
	[[ "$(jqb .reason)" == *"repository database does not answer"* ]]
	pg_start
	for _ in $(seq 1 50); do # a pooled connection is made again when next used
		s=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' --cacert "$D2/certs/root.pem" "$px2")
		[ "$s" = 200 ] && break
		sleep 0.1
	done
	expect 200 "$s"
	s=$(node_api 3 GET "/qrs/tag/$id" -D "$BATS_TEST_TMPDIR/h"); expect 200 "$s"
	[ "$(jqb .name)" = n-1 ]
	[ "$(grep -ci '^X-Fathom-Cache' "$BATS_TEST_TMPDIR/h")" = 0 ]
}

@test "a node that cannot listen polls the change log, and listens again when it can" {
	# The test before restarted PostgreSQL, and a pool reconnects a broken connection only
	# when it next uses it: with the role capped below, such a reconnect would be refused
	# (a 503 on a busy machine, where more of a pool is in use). Nodes 1 and 3, restarted,
	# hold every connection they will use.
	restart_node "$D1"
	restart_node "$D3"
	s=$(node_json 1 POST /qrs/tag '{"name":"p-0"}'); expect 201 "$s"
	id=$(jqb .id); md=$(jqb .modifiedDate)
	s=$(node_api 3 GET "/qrs/tag/$id"); expect 200 "$s"
	all_listening
	from=$(log_lines 3)
	# Refuse new connections of the site's role, then cut node3's listener: it cannot
	# listen again while its pool (already connected) keeps working.
	n=$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE usename = 'fathom'")
	pg_sql fathom "ALTER ROLE fathom CONNECTION LIMIT $((n - 1))" >/dev/null
	pg_sql fathom "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fathom node3 listener'" >/dev/null
	wait_log 3 'listening connection dropped.*polling' "$from"

	s=$(node_json 1 PUT "/qrs/tag/$id" "{\"name\":\"p-1\",\"modifiedDate\":\"$md\"}"); expect 200 "$s"
	seq=$(pg_sql fathom "SELECT max(seq) FROM change_log")
	for _ in $(seq 1 200); do
		got=$(grep -oE 'read from the change log, up to seq [0-9]+' "$D3/stderr.log" | tail -n 1 | grep -oE '[0-9]+$' || echo 0)
		[ "${got:-0}" -ge "$seq" ] && break
		sleep 0.1
	done
	[ "${got:-0}" -ge "$seq" ]
	[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node3 listener'")" = 0 ]
	pg_sql fathom "ALTER ROLE fathom CONNECTION LIMIT -1" >/dev/null
	wait_log 3 'listening to the change log again' "$from"
	pg_stop
	s=$(node_api 3 GET "/qrs/tag/$id"); expect 503 "$s"
	pg_start
}

@test "the database stops for ${FATHOM_OUTAGE_S:-30} s under writes and reads through three nodes: cached reads are answered, writes get 503, all recover, nothing acknowledged is lost" {
	outage=${FATHOM_OUTAGE_S:-30}
	all_listening

	s=$(node_json 1 POST /qrs/tag '{"name":"steady"}'); expect 201 "$s"
	tag=$(jqb .id)
	reader() { # reader N: reads one tag through node N; logs "status stale|fresh"
		local n=$1 d p
		d=$(eval echo "\$D$n")
		p=$(eval echo "\$P$n")
		while [ ! -f "$BATS_TEST_TMPDIR/stop" ]; do
			s=$(curl -s -D "$BATS_TEST_TMPDIR/h.$n" -o "$BATS_TEST_TMPDIR/b.$n" -w '%{http_code}' \
				-m 10 --cacert "$d/certs/root.pem" --cert "$d/certs/client.pem" \
				--key "$d/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
				"https://localhost:$p/qrs/tag/$tag?xrfkey=$XRF")
			if grep -qi '^X-Fathom-Cache: stale' "$BATS_TEST_TMPDIR/h.$n"; then f=stale; else f=fresh; fi
			echo "$s $f $(jq -r .name "$BATS_TEST_TMPDIR/b.$n" 2>/dev/null)" >>"$BATS_TEST_TMPDIR/reads.$n"
			sleep 0.4
		done
	}
	pids=()
	for n in 1 2 3; do
		writer "$(eval echo "\$D$n")" "$(eval echo "\$P$n")" stream "w$n" 0.3 & pids+=($!)
		reader $n & pids+=($!)
	done
	sleep 2
	pg_stop
	sleep $((outage / 2))
	# A write in the middle of the outage says when to come back.
	s=$(node_json 2 POST /qrs/stream '{"name":"mid"}' -D "$BATS_TEST_TMPDIR/h.mid"); expect 503 "$s"
	grep -qi '^Retry-After: [0-9]' "$BATS_TEST_TMPDIR/h.mid"
	sleep $((outage - outage / 2))
	pg_start
	# every node recovers: its last three writes acknowledged and reads fresh (waited for,
	# not assumed after a fixed time, so that a busy machine does not fail the test)
	recovered() {
		local n
		for n in 1 2 3; do
			[ "$(tail -n 3 "$BATS_TEST_TMPDIR/writes.w$n" | grep -c '^201 ')" = 3 ] || return 1
			[ "$(tail -n 3 "$BATS_TEST_TMPDIR/reads.$n" | grep -c '^200 fresh ')" = 3 ] || return 1
		done
	}
	back=$(date +%s)
	for _ in $(seq 1 600); do
		recovered && break
		sleep 0.1
	done
	echo "# recovered in $(($(date +%s) - back)) s after the database came back" >&3
	touch "$BATS_TEST_TMPDIR/stop"
	wait "${pids[@]}"
	for n in 1 2 3; do
		kill -0 "$(eval cat "\$D$n/pid")"
	done
	for n in 1 2 3; do
		w=$BATS_TEST_TMPDIR/writes.w$n r=$BATS_TEST_TMPDIR/reads.$n
		# Writes: acknowledged before and after, 503 during, nothing else.
		[ "$(grep -c '^201 ' "$w")" -gt 5 ]
		[ "$(grep -c '^503 ' "$w")" -gt 5 ]
		[ "$(grep -vc '^201 \|^503 ' "$w")" = 0 ]
		[ "$(tail -n 3 "$w" | grep -c '^201 ')" = 3 ]
		# Reads: every one answered with the tag, from the cache during the outage and
		# from the database again after it.
		[ "$(grep -vc '^200 [a-z]* steady$' "$r")" = 0 ]
		[ "$(grep -c '^200 stale ' "$r")" -gt 5 ]
		[ "$(tail -n 3 "$r" | grep -c '^200 fresh ')" = 3 ]
	done
	cat "$BATS_TEST_TMPDIR"/writes.* | grep '^201 ' | cut -d' ' -f2 | sort >"$BATS_TEST_TMPDIR/acked"
	pg_sql fathom "SELECT name FROM stream WHERE name LIKE 'w%'" | sort >"$BATS_TEST_TMPDIR/stored"
	[ -z "$(comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/stored")" ]
	# Every node says it is listening to the change log again (its follower tries again each
	# second: waited for, as the recovery above, not assumed at once)
	for n in 1 2 3; do
		for _ in $(seq 1 200); do
			[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node$n listener'")" = 1 ] && break
			sleep 0.1
		done
		[ "$(pg_sql fathom "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fathom node$n listener'")" = 1 ]
	done
}
