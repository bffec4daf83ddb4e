#!/usr/bin/env bats
# Reload tasks on one node (SQLite by default; FATHOM_TEST_DB=postgres runs the same on
# PostgreSQL): tasks with their triggers, time triggers in a zone that is not the node's,
# starting, stopping and retrying (also after a node vanished), task chains,
# load-balancing rules, the central role of a lone node, the CLI, and bad input refused
# with nothing half-created.

load helpers

setup_file() {
	site_up
	# a short queue timeout, for the test of executions no node may take
	node_conf_add '\n[scheduler]\nqueue_timeout_s = 10\n'
	printf 'Region,Amount\nNorth,10\nSouth,20\n' >"$SHARE/CustomData/sales.csv"
}

teardown_file() { site_down; }

# new_task NAME APP_ID [EXTRA_TASK_JSON] [EVENTS_JSON]: prints the task id
new_task() {
	local s
	s=$(json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"$1\",\"app\":{\"id\":\"$2\"}${3:+,$3}}${4:+,$4}}")
	expect 201 "$s" >&2
	jqb .id
}

# results TASK_ID: "status status ..." of the task's results, oldest first
results() {
	api GET "/qrs/executionresult?filter=taskID%20eq%20$1&orderby=startTime" >/dev/null
	jqb '[.[].status] | map(tostring) | join(" ")'
}

# wait_results TASK_ID WANT [SECONDS]: waits until results TASK_ID prints WANT
wait_results() {
	local got
	for _ in $(seq 1 $((${3:-20} * 4))); do
		got=$(results "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.25
	done
	echo "results of task $1: \"$got\", expected \"$2\"" >&2
	tail -20 "$SITE/stderr.log" >&2
	return 1
}

sales_script='T: LOAD Region, Amount FROM [lib://CustomData/sales.csv]\n  (txt, utf8, embedded labels, delimiter is \x27,\x27);\nTRACE task ran;\n'

@test "a started task runs on the node, logs, and leaves its result and operational state" {
	app=$(new_app TaskSales "$sales_script")
	task=$(new_task "Reload TaskSales" "$app")
	s=$(api POST "/qrs/task/$task/start/synchronous"); expect 201 "$s"
	sid=$(jqb .value)
	# answered once a node took it: it is running, or over already
	s=$(api GET "/qrs/executionsession/$sid")
	[ "$s" = 404 ] || [ "$(jqb .status)" = 2 ]
	wait_results "$task" 7
	s=$(api GET "/qrs/executionsession/$sid"); expect 404 "$s"
	s=$(api GET "/qrs/executionresult?filter=executionID%20eq%20$sid"); expect 200 "$s"
	[ "$(jqb '.[0].executingNodeName')" = node1 ]
	[ "$(jqb '.[0].scriptLogAvailable')" = true ]
	[ "$(jqb '.[0].duration')" -ge 0 ]
	rid=$(jqb '.[0].id')
	s=$(api GET "/qrs/executionresult/$rid/scriptlog"); expect 200 "$s"
	grep -q 'task ran' "$(BODY_FILE)"
	grep -q 'T << 2 rows' "$(BODY_FILE)"
	s=$(api GET "/qrs/reloadtask/$task"); expect 200 "$s"
	[ "$(jqb .operational.lastExecutionResult.id)" = "$rid" ]
	[ "$(jqb .operational.lastExecutionResult.status)" = 7 ]
	s=$(api GET "/qrs/app/$app"); [ "$(jqb .lastReloadTime)" != 1753-01-01T00:00:00.000Z ]
	s=$(api GET /metrics); expect 200 "$s"
	grep -qE '^fathom_reload_duration_seconds_count\{result="success"\} [1-9]' "$(BODY_FILE)"
	grep -qE '^fathom_scheduler_executions_claimed_total [1-9]' "$(BODY_FILE)"
	# the read-only operational state may be echoed back in a PUT, stale or not
	md=$(api GET "/qrs/reloadtask/$task" >/dev/null; jqb .modifiedDate)
	s=$(json PUT "/qrs/reloadtask/$task" "$(jq '.name = "Reload TaskSales 2" | .operational = {"x":1}' "$(BODY_FILE)")")
	expect 200 "$s"
	[ "$(jqb .operational.lastExecutionResult.id)" = "$rid" ]
	# started by name, and several at once
	s=$(api POST "/qrs/task/start?name=Reload%20TaskSales%202"); expect 204 "$s"
	wait_results "$task" "7 7"
	s=$(json POST /qrs/task/start/many "[\"$task\"]"); expect 204 "$s"
	wait_results "$task" "7 7 7"
}

@test "a time trigger fires once, at its start in a time zone that is not the node's" {
	app=$(new_app Zoned "$sales_script")
	# the wall-clock time in New York 5 s from now, written as the API writes it
	start=$(TZ=America/New_York date -d '+5 sec' +%Y-%m-%dT%H:%M:%S.000Z)
	utc=$(date -u -d "TZ=\"America/New_York\" ${start%.000Z}" +%Y-%m-%dT%H:%M:%S.000Z)
	task=$(new_task "Reload Zoned" "$app" "" "\"schemaEvents\":[{\"name\":\"once in NY\",\"timeZone\":\"America/New_York\",\"startDate\":\"$start\",\"incrementOption\":0,\"incrementDescription\":\"0 0 0 0\"}]")
	s=$(api GET "/qrs/schemaevent?filter=reloadTask.id%20eq%20$task"); expect 200 "$s"
	[ "$(jqb 'length')" = 1 ]
	wait_results "$task" 7 30
	[ "$(sql "SELECT fire_time FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task'")" = "$utc" ]
	s=$(api GET "/qrs/schemaevent/full?filter=reloadTask.id%20eq%20$task"); expect 200 "$s"
	[ "$(jqb '.[0].operational.timesTriggered')" = 1 ]
	[ "$(jqb '.[0].operational.lastEventDate')" = "$utc" ]
	sleep 3
	[ "$(results "$task")" = 7 ]
}

@test "a one-shot trigger stored just after its time still fires, once; one stored minutes after never does" {
	app=$(new_app Late "$sales_script")
	# stored 5 s after its start (a slow client or a busy machine): due at once
	late=$(date -u -d '-5 sec' +%Y-%m-%dT%H:%M:%S.000Z)
	task=$(new_task "Reload Late" "$app" "" "\"schemaEvents\":[{\"name\":\"late\",\"startDate\":\"$late\",\"incrementOption\":0,\"incrementDescription\":\"0 0 0 0\"}]")
	wait_results "$task" 7 30
	[ "$(sql "SELECT fire_time FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task'")" = "$late" ]
	# five minutes before it was stored: past the minute of grace, it never fires
	old=$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%S.000Z)
	task2=$(new_task "Reload Old" "$app" "" "\"schemaEvents\":[{\"name\":\"old\",\"startDate\":\"$old\",\"incrementOption\":0,\"incrementDescription\":\"0 0 0 0\"}]")
	for _ in $(seq 1 50); do
		[ "$(sql "SELECT next_fire FROM schemaevent WHERE reload_task_id = '$task2'")" = 9999-12-31T00:00:00.000Z ] && break
		sleep 0.2
	done
	[ "$(sql "SELECT next_fire FROM schemaevent WHERE reload_task_id = '$task2'")" = 9999-12-31T00:00:00.000Z ]
	sleep 2
	[ "$(results "$task2")" = "" ]
	[ "$(sql "SELECT count(*) FROM trigger_fire t JOIN schemaevent e ON e.id = t.trigger_id WHERE e.reload_task_id = '$task2'")" = 0 ]
	[ "$(results "$task")" = 7 ]
}

@test "a task chain runs a task when another finishes with success" {
	a=$(new_task "Chain A" "$(new_app ChainA "$sales_script")")
	b=$(new_task "Chain B" "$(new_app ChainB "$sales_script")" "" "\"compositeEvents\":[{\"name\":\"after A\",\"timeConstraint\":{\"days\":0,\"hours\":0,\"minutes\":360,\"seconds\":0},\"compositeRules\":[{\"ruleState\":1,\"reloadTask\":{\"id\":\"$a\"}}]}]")
	c=$(new_task "Chain C" "$(new_app ChainC "$sales_script")" "" "\"compositeEvents\":[{\"name\":\"after A fails\",\"compositeRules\":[{\"ruleState\":2,\"reloadTask\":{\"id\":\"$a\"}}]}]")
	s=$(api POST "/qrs/task/$a/start"); expect 204 "$s"
	wait_results "$a" 7
	wait_results "$b" 7
	sleep 2
	[ "$(results "$c")" = "" ]
	[ "$(sql "SELECT count(*) FROM trigger_fire WHERE trigger_id IN (SELECT id FROM compositeevent WHERE reload_task_id = '$b')")" = 1 ]
}

@test "a chain on two tasks runs once per round: both must end again before it runs again" {
	a=$(new_task "Both A" "$(new_app BothA "$sales_script")")
	b=$(new_task "Both B" "$(new_app BothB "$sales_script")")
	c=$(new_task "Both C" "$(new_app BothC "$sales_script")" "" "\"compositeEvents\":[{\"name\":\"after A and B\",\"timeConstraint\":{\"days\":0,\"hours\":1,\"minutes\":0,\"seconds\":0},\"compositeRules\":[{\"ruleState\":1,\"reloadTask\":{\"id\":\"$a\"}},{\"ruleState\":1,\"reloadTask\":{\"id\":\"$b\"}}]}]")
	s=$(api POST "/qrs/task/$a/start"); expect 204 "$s"
	wait_results "$a" 7
	sleep 2
	[ "$(results "$c")" = "" ] # B has not run yet
	s=$(api POST "/qrs/task/$b/start"); expect 204 "$s"
	wait_results "$b" 7
	wait_results "$c" 7
	# A again: B's result was used by that run, so C waits for B
	s=$(api POST "/qrs/task/$a/start"); expect 204 "$s"
	wait_results "$a" "7 7"
	sleep 2
	[ "$(results "$c")" = 7 ]
	s=$(api POST "/qrs/task/$b/start"); expect 204 "$s"
	wait_results "$c" "7 7"
	sleep 2
	[ "$(results "$c")" = "7 7" ]
	[ "$(sql "SELECT count(*) FROM trigger_fire WHERE trigger_id IN (SELECT id FROM compositeevent WHERE reload_task_id = '$c')")" = 2 ]
}

@test "a chain counts no end from before it was made" {
	a=$(new_task "Earlier A" "$(new_app EarlierA "$sales_script")")
	b=$(new_task "Earlier B" "$(new_app EarlierB "$sales_script")")
	s=$(api POST "/qrs/task/$a/start"); expect 204 "$s"
	wait_results "$a" 7
	sleep 1
	c=$(new_task "Earlier C" "$(new_app EarlierC "$sales_script")" "" "\"compositeEvents\":[{\"name\":\"after A and B\",\"compositeRules\":[{\"ruleState\":1,\"reloadTask\":{\"id\":\"$a\"}},{\"ruleState\":1,\"reloadTask\":{\"id\":\"$b\"}}]}]")
	# B ends after C was made, A before: C waits for A
	s=$(api POST "/qrs/task/$b/start"); expect 204 "$s"
	wait_results "$b" 7
	sleep 2
	[ "$(results "$c")" = "" ]
	s=$(api POST "/qrs/task/$a/start"); expect 204 "$s"
	wait_results "$c" 7
}

@test "a failing task is retried up to maxRetries, each attempt with its result" {
	app=$(new_app Failing 'T: LOAD Nope FROM [lib://CustomData/missing.csv] (txt);\n')
	task=$(new_task "Reload Failing" "$app" '"maxRetries":2')
	s=$(api POST "/qrs/task/$task/start/synchronous"); expect 201 "$s"
	sid=$(jqb .value)
	wait_results "$task" "8 8 8" 40
	sleep 1
	s=$(api GET "/qrs/executionsession/$sid"); expect 404 "$s"
	s=$(api GET "/qrs/executionresult?filter=executionID%20eq%20$sid&orderby=startTime"); expect 200 "$s"
	[[ "$(jqb '.[0].details[-1].message')" == *"missing.csv"*"it is retried"* ]]
	[[ "$(jqb '.[2].details[-1].message')" != *"retried"* ]]
}

@test "stopping a running task kills its reload; the app keeps its data" {
	app=$(new_app Slow 'SLEEP 600000;\nT: LOAD 1 AS X AUTOGENERATE 1;\n')
	gen0=$(sql "SELECT generation FROM app WHERE id = '$app'")
	task=$(new_task "Reload Slow" "$app")
	s=$(api POST "/qrs/task/$task/start/synchronous"); expect 201 "$s"
	sid=$(jqb .value)
	wait_results "$task" 2
	s=$(api POST "/qrs/task/$task/stop"); expect 204 "$s"
	wait_results "$task" 6
	s=$(api GET "/qrs/executionresult?filter=executionID%20eq%20$sid"); expect 200 "$s"
	[ "$(jqb '.[0].details[-1].message')" = "stopped on request" ]
	[ "$(sql "SELECT generation FROM app WHERE id = '$app'")" = "$gen0" ]
	[ -z "$(pgrep -f "reload-worker.*$app" || true)" ]
}

# sql_write SQL: runs statements that write (on SQLite, waiting for the node's writes)
sql_write() {
	if on_postgres; then
		pg_sql "${PGDB:-fathom}" "$1"
	else
		sqlite3 -cmd ".timeout 10000" "$SITE/repository.db" "$1"
	fi
}

# orphan TASK APP STORED: makes an execution of TASK look like one a vanished node was
# running (its lease long expired), which had stored its reload (STORED 1) or not (0);
# prints the execution id
orphan() {
	local sid rid now node=6a0c1b52-1111-4b5e-9a53-0a1a7d2f58d1
	sid=$(cat /proc/sys/kernel/random/uuid) rid=$(cat /proc/sys/kernel/random/uuid) now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	sql_write "UPDATE reloadtask SET running_session = '$sid' WHERE id = '$1';
INSERT INTO executionsession (id, created_date, modified_date, modified_by, reload_task_id, app_id, trigger_id, fire_time, status, executing_node_id, execution_result_id, abort_at, retries, abort_reason, queued_at, lease_until, stop_requested, reload_stored) VALUES ('$sid', '$now', '$now', 'test', '$1', '$2', 'manual', '$now', 2, '$node', '$rid', '2099-01-01T00:00:00.000Z', 0, 0, '$now', '2000-01-01T00:00:00.000Z', 0, $3);
INSERT INTO executionresult (id, created_date, modified_date, modified_by, task_id, execution_id, app_id, executing_node_id, executing_node_name, status, start_time, stop_time, duration, file_reference_id, script_log_available, script_log_size, details, trigger_id, chain_seen) VALUES ('$rid', '$now', '$now', 'test', '$1', '$sid', '$2', '$node', 'vanished', 2, '$now', '1753-01-01T00:00:00.000Z', 0, '00000000-0000-0000-0000-000000000000', 0, 0, '[]', 'manual', 0);" >/dev/null
	echo "$sid"
}

@test "an execution whose node vanished is retried, unless that node had stored its reload" {
	app=$(new_app Orphaned "$sales_script")
	task=$(new_task "Reload Orphaned" "$app" '"maxRetries":1')
	# stored before its node vanished: finished, not run again
	sid=$(orphan "$task" "$app" 1)
	wait_results "$task" "7" 30
	api GET "/qrs/executionresult?filter=executionID%20eq%20$sid" >/dev/null
	[[ "$(jqb '.[0].details[-1].message')" == *"after it stored the reload"* ]]
	[ "$(rows executionsession "WHERE id = '$sid'")" = 0 ]
	sleep 2
	[ "$(results "$task")" = "7" ]
	# nothing stored: retried here, where it succeeds
	sid=$(orphan "$task" "$app" 0)
	wait_results "$task" "7 11 7" 30
	api GET "/qrs/executionresult?filter=executionID%20eq%20$sid&orderby=startTime" >/dev/null
	[[ "$(jqb '.[0].details[-1].message')" == *"it is retried on another node"* ]]
	[ "$(jqb '.[1].executingNodeName')" != vanished ]
}

@test "load-balancing rules decide which nodes reload an app" {
	app=$(new_app Balanced "$sales_script")
	task=$(new_task "Reload Balanced" "$app")
	s=$(json POST /qrs/loadbalancing/validengines "{\"appID\":\"$app\",\"loadBalancingPurpose\":2}")
	expect 201 "$s"
	[ "$(jqb '.validEngines | length')" = 1 ]
	[ "$(jqb .validEngines[0])" = "wss://localhost:$(conf_port "$SITE" engine)" ]
	[ "$(jqb .loadBalancingResultCode)" = 0 ]
	# keep reloads off the central node: this lone node may not take the app any more
	s=$(json POST /qrs/systemrule "{\"name\":\"not on central\",\"category\":\"Sync\",\"resourceFilter\":\"App_*\",\"rule\":\"((node.isCentral = \\\"false\\\"))\",\"actions\":1}")
	expect 201 "$s"
	rule=$(jqb .id)
	s=$(json POST /qrs/loadbalancing/validengines "{\"appID\":\"$app\"}"); expect 201 "$s"
	[ "$(jqb '.validEngines | length')" = 0 ]
	s=$(api POST "/qrs/task/$task/start"); expect 204 "$s"
	sid=$(sql "SELECT id FROM executionsession WHERE reload_task_id = '$task'")
	sleep 3
	[ "$(results "$task")" = "" ]
	s=$(api GET "/qrs/executionsession/$sid"); expect 200 "$s"
	[ "$(jqb .status)" = 3 ]
	# a rule for another app does not apply to this one; deleting ours lets it run
	s=$(api DELETE "/qrs/systemrule/$rule"); expect 204 "$s"
	wait_results "$task" 7
	s=$(json POST /qrs/loadbalancing/validengines '{"appID":"6baa5c73-af76-48c8-a5e8-c185c86a885c"}')
	expect 201 "$s"
	[ "$(jqb .loadBalancingResultCode)" = 1 ]
}

@test "an execution no node may take ends in Error at the queue timeout, saying why" {
	app=$(new_app Nowhere "$sales_script")
	task=$(new_task "Reload Nowhere" "$app")
	s=$(json POST /qrs/systemrule "{\"name\":\"nowhere\",\"category\":\"Sync\",\"resourceFilter\":\"App_$app\",\"rule\":\"node.name = \\\"nobody\\\"\",\"actions\":1}")
	expect 201 "$s"
	rule=$(jqb .id)
	s=$(api POST "/qrs/task/$task/start/synchronous"); expect 201 "$s"
	sid=$(jqb .value)
	wait_results "$task" 11 40
	s=$(api GET "/qrs/executionsession/$sid"); expect 404 "$s"
	s=$(api GET "/qrs/executionresult?filter=executionID%20eq%20$sid"); expect 200 "$s"
	[[ "$(jqb '.[0].details[0].message')" == *"queue timeout of 10 s"* ]]
	s=$(api DELETE "/qrs/systemrule/$rule"); expect 204 "$s"
}

@test "a lone node holds the central role and takes it back at once" {
	node=$(sed -n 's/^id = //p' "$SITE/node.conf" | head -1)
	s=$(api GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '.[0].isCentral')" = true ]
	[ "$(sql "SELECT holder FROM central_lease")" = "$node" ]
	tok=$(sql "SELECT token FROM central_lease")
	s=$(api POST "/qrs/failover/tonode/$node"); expect 204 "$s"
	[ "$(sql "SELECT token FROM central_lease")" -gt "$tok" ]
	s=$(api POST /qrs/failover/tonode/6baa5c73-af76-48c8-a5e8-c185c86a885c); expect 404 "$s"
	# a node that is not a failover candidate cannot take the role
	set_candidate "$node" false
	s=$(api POST "/qrs/failover/tonode/$node"); expect 400 "$s"
	[[ "$(jqb .message)" == *"not a failover candidate"* ]]
	set_candidate "$node" true
}

# set_candidate NODE_ID true|false: sets the node's failoverCandidate flag
set_candidate() {
	local s md
	s=$(api GET "/qrs/servernodeconfiguration/$1"); md=$(jqb .modifiedDate)
	s=$(json PUT "/qrs/servernodeconfiguration/$1" "{\"failoverCandidate\":$2,\"modifiedDate\":\"$md\"}")
	expect 200 "$s"
}

@test "the CLI lists tasks, starts one by name and follows its log to the end" {
	app=$(new_app CliApp "$sales_script")
	new_task "Cli Task" "$app" >/dev/null
	run "$FATHOM" task start "Cli Task" --dir "$SITE" --follow --timeout 60
	[ "$status" -eq 0 ]
	[[ "$output" == *"queued execution"* ]]
	[[ "$output" == *"task ran"* ]]
	[[ "$output" == *"FinishedSuccess"* ]]
	run "$FATHOM" task list --dir "$SITE"
	[ "$status" -eq 0 ]
	[[ "$(grep '^Cli Task' <<<"$output")" == *"CliApp"*"FinishedSuccess"* ]]
	run "$FATHOM" task start "No Such Task" --dir "$SITE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no task named"* ]]
	run "$FATHOM" task --help
	[ "$status" -eq 0 ]
}

# refused NAME APP EVENTS_JSON SAYS: creating task NAME with those triggers is refused with
# 400 and a message that says SAYS
refused() {
	local s
	s=$(json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"$1\",\"app\":{\"id\":\"$2\"}},$3}")
	expect 400 "$s"
	[[ "$(jqb .message)" == *"$4"* ]] || { echo "message: $(jqb .message)" >&2; return 1; }
}

@test "bad input is refused with its reason and nothing is half-created" {
	app=$(new_app BadInput "$sales_script")
	n0=$(rows reloadtask); e0=$(rows schemaevent)
	# a schedule that never fires, an unknown time zone, an expiration before the start
	refused Never "$app" '"schemaEvents":[{"name":"feb 31","startDate":"2027-02-01T09:00:00.000Z","expirationDate":"2027-03-01T00:00:00.000Z","incrementOption":4,"incrementDescription":"0 0 1 0","schemaFilterDescription":["* * - * * 31 * *"]}]' "never fires"
	refused Nowhere "$app" '"schemaEvents":[{"name":"x","timeZone":"Mars/Olympus","startDate":"2027-02-01T09:00:00.000Z"}]' "unknown time zone"
	refused Backwards "$app" '"schemaEvents":[{"name":"x","startDate":"2027-02-01T09:00:00.000Z","expirationDate":"2026-01-01T00:00:00.000Z"}]' "before it starts"
	# a chain on a task that does not exist, and one with no rules
	refused Orphan "$app" '"compositeEvents":[{"name":"x","compositeRules":[{"ruleState":1,"reloadTask":{"id":"6baa5c73-af76-48c8-a5e8-c185c86a885c"}}]}]' "no reload task"
	refused Empty "$app" '"compositeEvents":[{"name":"x","compositeRules":[]}]' "at least one rule"
	# a task for an app that does not exist (or was deleted)
	gone=$(new_app Gone "$sales_script")
	s=$(api DELETE "/qrs/app/$gone"); expect 204 "$s"
	s=$(json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"Ghost\",\"app\":{\"id\":\"$gone\"}}}")
	[ "$s" = 400 ] || [ "$s" = 404 ]
	[[ "$(jqb .message)" == *"$gone"* ]]
	s=$(json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"Bad\",\"app\":{\"id\":\"$app\"},\"maxRetries\":99}}")
	expect 400 "$s"
	# nothing of those was stored
	[ "$(rows reloadtask)" = "$n0" ]
	[ "$(rows schemaevent)" = "$e0" ]
	# starting what does not exist
	s=$(api POST /qrs/task/6baa5c73-af76-48c8-a5e8-c185c86a885c/start); expect 404 "$s"
	s=$(api POST "/qrs/task/start?name=nothing"); expect 404 "$s"
	# a disabled task: refused, and its synchronous start answers QRS's "did not start"
	off=$(new_task "Disabled" "$app" '"enabled":false')
	s=$(api POST "/qrs/task/$off/start"); expect 400 "$s"
	[[ "$(jqb .message)" == *disabled* ]]
	s=$(api POST "/qrs/task/$off/start/synchronous"); expect 201 "$s"
	[ "$(jqb .value)" = 00000000-0000-0000-0000-000000000000 ]
	[ "$(rows executionsession "WHERE reload_task_id = '$off'")" = 0 ]
	# a load-balancing rule that does not parse: 400 with the position
	s=$(json POST /qrs/systemrule '{"name":"bad","category":"Sync","resourceFilter":"App_*","rule":"node.name = ","actions":1}')
	expect 400 "$s"
	[ "$(jqb .position)" -gt 0 ]
	# a scheduled reload whose execution is not running here stores nothing (409), and an
	# execution needs its result
	api GET "/qrs/app/$app" >/dev/null
	before=$(jqb .lastReloadTime)
	s=$(api POST "/qrs/app/$app/reload?session=6baa5c73-af76-48c8-a5e8-c185c86a885c&log=0c3d8f43-4d64-4b5e-9a53-0a1a7d2f58d1")
	expect 409 "$s"
	[[ "$(jqb .message)" == *"not stored"* ]]
	s=$(api POST "/qrs/app/$app/reload?session=6baa5c73-af76-48c8-a5e8-c185c86a885c"); expect 400 "$s"
	api GET "/qrs/app/$app" >/dev/null
	[ "$(jqb .lastReloadTime)" = "$before" ]
	# a task whose app is deleted goes with it, triggers and all
	task=$(new_task "Doomed" "$app" "" "\"schemaEvents\":[{\"name\":\"daily\",\"startDate\":\"2030-01-01T06:00:00.000Z\"}]")
	s=$(api DELETE "/qrs/app/$app"); expect 204 "$s"
	s=$(api GET "/qrs/reloadtask/$task"); expect 404 "$s"
	[ "$(rows schemaevent "WHERE reload_task_id = '$task'")" = 0 ]
}
