#!/usr/bin/env bats
# The central role and the scheduler across three real nodes on one PostgreSQL: the role
# moves within its TTL when the central node is killed or paused, triggers keep firing and
# none fires twice, a stale holder's token is refused, an execution whose worker died is
# retried on another node, and 10,000 queued executions run exactly once each.

load helpers

node_api() { # node_api DIR PORT METHOD PATH [curl args]
	local d=$1 p=$2
	shift 2
	SITE=$d BASE=https://localhost:$p api "$@"
}

node_json() { # node_json DIR PORT METHOD PATH BODY
	local d=$1 p=$2
	shift 2
	SITE=$d BASE=https://localhost:$p json "$@"
}

TTL=6

setup_file() {
	pg_up
	export D1=$BATS_FILE_TMPDIR/node1 D2=$BATS_FILE_TMPDIR/node2 D3=$BATS_FILE_TMPDIR/node3
	export SH=$BATS_FILE_TMPDIR/share SHARE=$BATS_FILE_TMPDIR/share SITE=$BATS_FILE_TMPDIR/node1
	export P1 P2 P3
	P1=$(free_port) P2=$(free_port) P3=$(free_port)
	"$FATHOM" site create --dir "$D1" --share "$SH" --repository-port "$P1" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--hostname localhost --name node1 --db "$DB_URL" >/dev/null
	join_node "$D2" "$P2" node2 "$D1"
	join_node "$D3" "$P3" node3 "$D1"
	# short execution leases, so a dead worker's execution comes back quickly (long enough
	# that a busy sanitized build still renews them in time)
	for d in "$D1" "$D2" "$D3"; do printf '\n[scheduler]\nexecution_lease_s = 8\n' >>"$d/node.conf"; done
	start_node "$D1"
	# node2 is a failover candidate too; the role's TTL is short for the test
	s=$(node_api "$D1" "$P1" GET "/qrs/servernodeconfiguration?filter=name%20eq%20'node2'")
	id2=$(jqb '.[0].id')
	s=$(node_api "$D1" "$P1" GET "/qrs/servernodeconfiguration/$id2"); md=$(jqb .modifiedDate)
	s=$(node_json "$D1" "$P1" PUT "/qrs/servernodeconfiguration/$id2" "{\"failoverCandidate\":true,\"modifiedDate\":\"$md\"}")
	expect 200 "$s"
	s=$(node_api "$D1" "$P1" GET /qrs/servicecluster/full); cid=$(jqb '.[0].id'); md=$(jqb '.[0].modifiedDate')
	settings=$(jqb -c ".[0].settings + {\"centralRoleTtlSeconds\": $TTL}")
	s=$(node_json "$D1" "$P1" PUT "/qrs/servicecluster/$cid" "{\"settings\":$settings,\"modifiedDate\":\"$md\"}")
	expect 200 "$s"
	start_node "$D2"
	start_node "$D3"
	printf 'Region,Amount\nNorth,10\nSouth,20\n' >"$SH/CustomData/sales.csv"
}

teardown_file() {
	for d in "$D3" "$D2" "$D1"; do
		[ -f "$d/pid" ] && { kill -CONT "$(cat "$d/pid")" 2>/dev/null || true; stop_node "$d" || true; }
	done
	pg_down
}

# a test that killed a node and failed before restarting it leaves the others one node
teardown() {
	for d in "$D1" "$D2" "$D3"; do
		[ -f "$d/pid" ] && kill -CONT "$(cat "$d/pid")" 2>/dev/null
		[ -f "$d/pid" ] || start_node "$d"
	done
}

node_id() { sed -n 's/^id = //p' "$1/node.conf" | head -1; }
holder() { pg_sql fathom "SELECT holder FROM central_lease"; }

# new_app NAME SCRIPT: creates an app with that script; prints its id
new_app() {
	printf '%b' "$2" >"$BATS_TEST_TMPDIR/$1.qvs"
	"$FATHOM" app create "$1" --dir "$D1" --script "$BATS_TEST_TMPDIR/$1.qvs" >/dev/null
	pg_sql fathom "SELECT id FROM app WHERE name = '$1'"
}

# new_task NAME APP [TASK_JSON] [EVENTS_JSON] (through node3, never killed here)
new_task() {
	local s
	s=$(node_json "$D3" "$P3" POST /qrs/reloadtask/create "{\"task\":{\"name\":\"$1\",\"app\":{\"id\":\"$2\"}${3:+,$3}}${4:+,$4}}")
	expect 201 "$s" >&2
	jqb .id
}

# wait_holder NODE_ID SECONDS: waits until NODE_ID holds the role; prints the seconds it took
wait_holder() {
	local t0=$SECONDS
	for _ in $(seq 1 $(($2 * 4))); do
		if [ "$(holder)" = "$1" ] && [ "$(pg_sql fathom "SELECT expires_at > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM central_lease")" = t ]; then
			echo $((SECONDS - t0))
			return 0
		fi
		sleep 0.25
	done
	echo "node $1 did not take the central role within $2 s (holder: $(holder))" >&2
	return 1
}

@test "node1 holds the central role; the node list shows it" {
	wait_holder "$(node_id "$D1")" 10 >/dev/null
	s=$(node_api "$D2" "$P2" GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '[.[] | select(.isCentral)] | map(.name) | join(",")')" = node1 ]
}

@test "the central node keeps the role when its pooled connections are closed under it: the lease has a connection of its own" {
	id1=$(node_id "$D1")
	wait_holder "$id1" 10 >/dev/null
	tok1=$(pg_sql fathom "SELECT token FROM central_lease")
	# the row names the server process of node1's lease connection
	[ "$(pg_sql fathom "SELECT a.application_name FROM central_lease l JOIN pg_stat_activity a ON a.pid = l.holder_pid")" = "fathom node1 lease" ]
	# every other connection of node1 closed by the server, twice a renewal apart (a
	# pooled connection named as the holder would let node2 take the role at once)
	for _ in 1 2; do
		n=$(pg_sql fathom "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'fathom node1'")
		[ "$n" -ge 1 ]
		sleep $((TTL / 3 + 1))
	done
	[ "$(holder)" = "$id1" ]
	[ "$(pg_sql fathom "SELECT token FROM central_lease")" = "$tok1" ]
	# node1 still writes (its pool connects again)
	s=$(node_json "$D1" "$P1" POST /qrs/tag '{"name":"after-the-cut"}'); expect 201 "$s"
}

@test "kill -9 of the central node: node2 takes the role within the TTL and one renewal, triggers keep firing, none twice" {
	app=$(new_app Ticks 'T: LOAD 1 AS X AUTOGENERATE 1;\n')
	# 24 one-shot triggers, one every 0.5 s from 3 s on: some fall while no node is central
	task=$(new_task Ticks "$app" "" "\"schemaEvents\":[$(oneshots 24 3 5)]")
	sleep 6
	tok1=$(pg_sql fathom "SELECT token FROM central_lease")
	fired_before=$(pg_sql fathom "SELECT count(*) FROM trigger_fire")
	[ "$fired_before" -ge 2 ]
	kill9_node "$D1"
	took=$(wait_holder "$(node_id "$D2")" $((TTL * 3)))
	echo "took $took s" >&3
	[ "$took" -le $((TTL + TTL / 3 + 2)) ]
	[ "$(pg_sql fathom "SELECT token FROM central_lease")" -gt "$tok1" ]
	# every trigger fires, once, and every firing ran once: the task runs one execution at a
	# time, so the last may end a minute or more after the last firing on a busy machine
	# (the sanitized build); wait until every one has ended
	fires="SELECT count(*) FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task'"
	for _ in $(seq 1 480); do
		[ "$(pg_sql fathom "$fires")" -ge 24 ] &&
			[ "$(pg_sql fathom "SELECT count(*) FROM executionsession WHERE reload_task_id = '$task'")" = 0 ] && break
		sleep 0.5
	done
	[ "$(pg_sql fathom "$fires")" = 24 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM executionsession WHERE reload_task_id = '$task'")" = 0 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE task_id = '$task'")" = 24 ]
	[ "$(pg_sql fathom "SELECT count(DISTINCT execution_id) FROM executionresult WHERE task_id = '$task'")" = 24 ]
	# each succeeded, but for a reload node1 may have been running when it was killed: that
	# one ends in Error when its lease runs out (the task has no retries)
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE task_id = '$task' AND status <> 7 AND details NOT LIKE '%stopped renewing its lease%'")" = 0 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE task_id = '$task' AND status = 7")" -ge 23 ]
	# the new holder fired some of them, with its own token
	[ "$(pg_sql fathom "SELECT count(*) FROM trigger_fire WHERE node_id = '$(node_id "$D2")' AND token > $tok1")" -gt 0 ]
	s=$(node_api "$D3" "$P3" GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '[.[] | select(.isCentral)] | map(.name) | join(",")')" = node2 ]
	start_node "$D1"
}

@test "a central node paused past its TTL steps down and fires nothing when it resumes" {
	id1=$(node_id "$D1") id2=$(node_id "$D2")
	# node2 takes the role on purpose first (after the test above it holds it already)
	s=$(node_api "$D3" "$P3" POST "/qrs/failover/tonode/$id2"); expect 204 "$s"
	wait_holder "$id2" 10 >/dev/null
	tok2=$(pg_sql fathom "SELECT token FROM central_lease")
	app=$(new_app Paused 'T: LOAD 1 AS X AUTOGENERATE 1;\n')
	task=$(new_task Paused "$app" "" "\"schemaEvents\":[$(oneshots 12 2 10)]")
	kill -STOP "$(cat "$D2/pid")"
	wait_holder "$id1" $((TTL * 3)) >/dev/null
	sleep 2
	kill -CONT "$(cat "$D2/pid")"
	for _ in $(seq 1 100); do
		grep -q 'this node steps down' "$D2/stderr.log" && break
		sleep 0.1
	done
	grep -q 'this node steps down' "$D2/stderr.log"
	for _ in $(seq 1 120); do
		[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE task_id = '$task' AND status = 7")" -ge 12 ] && break
		sleep 0.5
	done
	# twelve firings, twelve executions, each succeeded once (an execution node2 held
	# while paused may have been retried elsewhere: one more result, same execution)
	pg_sql fathom "SELECT t.fire_time, t.node_id, t.token, t.session_id FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task' ORDER BY 1" >&2
	pg_sql fathom "SELECT name, enabled, next_fire, sched_from, modified_date FROM schemaevent WHERE reload_task_id = '$task' ORDER BY 1" >&2
	for d in "$D1" "$D2"; do echo "== $d" >&2; grep -v "uploaded\|reloaded in\|execution " "$d/stderr.log" | tail -25 >&2; done
	[ "$(pg_sql fathom "SELECT count(*) FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task'")" = 12 ]
	[ "$(pg_sql fathom "SELECT count(DISTINCT execution_id) FROM executionresult WHERE task_id = '$task'")" = 12 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE task_id = '$task' AND status = 7")" = 12 ]
	# node2 fired nothing with its stale token after node1 took over
	[ "$(pg_sql fathom "SELECT count(*) FROM trigger_fire WHERE node_id = '$id2' AND token = $tok2 AND fire_time > (SELECT changed_at FROM central_lease)")" = 0 ]
	[ "$(holder)" = "$id1" ]
	# and the role can be moved back on purpose
	s=$(node_api "$D3" "$P3" POST "/qrs/failover/tonode/$id2"); expect 204 "$s"
	wait_holder "$id2" 10 >/dev/null
	s=$(node_api "$D3" "$P3" GET /qrs/servernodeconfiguration/full)
	for _ in $(seq 1 50); do
		s=$(node_api "$D3" "$P3" GET /qrs/servernodeconfiguration/full)
		[ "$(jqb '[.[] | select(.isCentral)] | map(.name) | join(",")')" = node2 ] && break
		sleep 0.2
	done
	[ "$(jqb '[.[] | select(.isCentral)] | map(.name) | join(",")')" = node2 ]
	# a node that is not a candidate is refused
	s=$(node_api "$D3" "$P3" POST "/qrs/failover/tonode/$(node_id "$D3")"); expect 400 "$s"
}

# run_and_kill HOW STATUS MESSAGE: starts a slow task (it sleeps 6 s) with one retry, kills the worker (HOW:
# node or child) or pauses its node until the retry has started elsewhere (HOW: pause) as
# soon as it runs, and checks the retry ends FinishedSuccess while the previous generation
# stayed live. The first attempt must end with STATUS and MESSAGE.
run_and_kill() {
	app=$(new_app "Slow$1" 'SLEEP 6000;\nU: LOAD 1 AS Done AUTOGENERATE 1;\n')
	gen0=$(pg_sql fathom "SELECT generation FROM app WHERE id = '$app'")
	task=$(new_task "Slow$1" "$app" '"maxRetries":1')
	s=$(node_api "$D3" "$P3" POST "/qrs/task/$task/start/synchronous"); expect 201 "$s"
	sid=$(jqb .value)
	node=""
	for _ in $(seq 1 100); do
		node=$(pg_sql fathom "SELECT executing_node_id FROM executionsession WHERE id = '$sid' AND status = 2")
		[ -n "$node" ] && break
		sleep 0.1
	done
	[ -n "$node" ]
	for d in "$D1" "$D2" "$D3"; do [ "$(node_id "$d")" = "$node" ] && victim=$d; done
	sleep 1
	if [ "$1" = node ]; then
		kill9_node "$victim"
	elif [ "$1" = pause ]; then
		kill -STOP "$(cat "$victim/pid")"
		for _ in $(seq 1 240); do
			[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE execution_id = '$sid'")" -ge 2 ] && break
			sleep 0.5
		done
		[ "$(pg_sql fathom "SELECT generation FROM app WHERE id = '$app'")" = "$gen0" ]
		kill -CONT "$(cat "$victim/pid")"
	else
		pkill -9 -f "reload-worker --in .*$app" || pkill -9 -f "reload-worker.*$app"
	fi
	# meanwhile the app keeps its previous generation, whole (checked above while paused:
	# by now the retry may have finished)
	[ "$1" = pause ] || [ "$(pg_sql fathom "SELECT generation FROM app WHERE id = '$app'")" = "$gen0" ]
	for _ in $(seq 1 240); do
		[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE execution_id = '$sid' AND status = 7")" = 1 ] && break
		sleep 0.5
	done
	pg_sql fathom "SELECT status, executing_node_name, details FROM executionresult WHERE execution_id = '$sid' ORDER BY start_time" >&2
	[ "$(pg_sql fathom "SELECT status FROM executionresult WHERE execution_id = '$sid' ORDER BY start_time")" = "$(printf '%s\n%s' "$2" 7)" ]
	[ "$(pg_sql fathom "SELECT generation FROM app WHERE id = '$app'")" != "$gen0" ]
	# ask a node that is still running (the victim may be node3)
	ad=$D3 ap=$P3
	[ "$victim" = "$D3" ] && ad=$D1 ap=$P1
	s=$(node_api "$ad" "$ap" GET "/qrs/executionresult?filter=executionID%20eq%20$sid&orderby=startTime"); expect 200 "$s"
	[[ "$(jqb '.[0].details[-1].message')" == *"$3"* ]]
	# the retry ran elsewhere when the node died or stopped
	if [ "$1" = node ]; then
		[ "$(jqb '.[1].executingNodeID')" != "$node" ]
		start_node "$victim"
	elif [ "$1" = pause ]; then
		[ "$(jqb '.[1].executingNodeID')" != "$node" ]
		# the resumed node gives up its run: the app is reloaded once, by the retry
		for _ in $(seq 1 240); do
			grep -q "taken from this node\|no longer this run's" "$victim/stderr.log" && break
			sleep 0.5
		done
		grep "$sid" "$victim/stderr.log" >&2 || true
		grep -q "taken from this node\|no longer this run's" "$victim/stderr.log"
		[ "$(cat "$D1/stderr.log" "$D2/stderr.log" "$D3/stderr.log" | grep -c "app $app reloaded in")" = 1 ]
	fi
}

@test "a node killed mid-reload: the execution is retried on another node and succeeds" {
	run_and_kill node 11 "stopped renewing its lease"
}

@test "a reload worker process killed mid-reload: the execution is retried and succeeds" {
	run_and_kill child 8 "signal 9"
}

@test "a worker paused past its execution lease: the retry runs elsewhere, the paused run is not stored" {
	run_and_kill pause 11 "stopped renewing its lease"
}

@test "queued executions across three nodes (480; 120 under the sanitizers; 10,000 in make soak) each run exactly once" {
	# the normal build runs 480 (twelve runners on three nodes contend for each: forty
	# rounds of them); the sanitized build, which starts every reload worker under ASan
	# (several times slower), runs 120 of the same, which is what it is there for: memory
	# errors on these paths; make soak runs the full 10,000 (SCHED_EXECUTIONS)
	n=480
	[ "${FATHOM_SANITIZED:-OFF}" = ON ] && n=120
	n=${SCHED_EXECUTIONS:-$n}
	ids=()
	for i in $(seq 1 40); do
		ids+=("$(new_task "Many$i" "$(new_app "Many$i" 'T: LOAD 1 AS X AUTOGENERATE 1;\n')")")
	done
	list=$(printf '"%s",' "${ids[@]}")
	per=$((n / 40))
	body="[$(for _ in $(seq 1 "$per"); do printf '%s' "$list"; done | sed 's/,$//')]"
	printf '%s' "$body" >"$BATS_TEST_TMPDIR/many.json"
	s=$(SITE=$D3 BASE=https://localhost:$P3 api POST /qrs/task/start/many -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/many.json")
	expect 204 "$s"
	for _ in $(seq 1 1200); do
		[ "$(pg_sql fathom "SELECT count(*) FROM executionsession WHERE reload_task_id IN (SELECT id FROM reloadtask WHERE name LIKE 'Many%')")" = 0 ] && break
		sleep 0.5
	done
	many="task_id IN (SELECT id FROM reloadtask WHERE name LIKE 'Many%')"
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE $many")" = "$n" ]
	[ "$(pg_sql fathom "SELECT count(DISTINCT execution_id) FROM executionresult WHERE $many")" = "$n" ]
	[ "$(pg_sql fathom "SELECT count(*) FROM executionresult WHERE $many AND status = 7")" = "$n" ]
	# all three nodes took part
	[ "$(pg_sql fathom "SELECT count(DISTINCT executing_node_id) FROM executionresult WHERE $many")" = 3 ]
	pg_sql fathom "SELECT executing_node_name, count(*) FROM executionresult WHERE $many GROUP BY 1 ORDER BY 1" >&3
}
