#!/usr/bin/env bats
# The command line: help, site create (and its refusals), and `fathom run` saying exactly
# what is wrong when it cannot start.

load helpers

setup() { node_vars; }

teardown() {
	[ -f "$D/pid" ] && kill -9 "$(cat "$D/pid")" 2>/dev/null || true
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null || true
}

@test "help: fathom, site create and run explain themselves" {
	run "$FATHOM" --help; [ "$status" -eq 0 ]; [[ "$output" == *"site create"* ]]; [[ "$output" == *"user "*"sign in"* ]]
	run "$FATHOM" user --help; [ "$status" -eq 0 ]; [[ "$output" == *"--password-file"* ]]
	run "$FATHOM" user frob --dir x; [ "$status" -eq 2 ]
	run "$FATHOM" site create --help; [ "$status" -eq 0 ]; [[ "$output" == *"--repository-port"* ]]
	run "$FATHOM" run --help; [ "$status" -eq 0 ]; [[ "$output" == *"--allow-root"* ]]
	run "$FATHOM"; [ "$status" -eq 2 ]
	run "$FATHOM" frobnicate; [ "$status" -eq 2 ]; [[ "$output" == *"unknown command"* ]]
	run "$FATHOM" site create --dir "$D"; [ "$status" -eq 2 ]; [[ "$output" == *"--share"* ]]
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port 99999; [ "$status" -eq 2 ]
	run "$FATHOM" site create --dir "$D" --share "$S" --engine-port 70000; [ "$status" -eq 2 ]
	[[ "$output" == *"--engine-port must be a port number"* ]]
	[ ! -e "$D" ]
}

@test "site create lays out the node folder, certificates and share" {
	E=$(free_port)
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$E" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost
	[ "$status" -eq 0 ]
	[ -f "$D/node.conf" ]; [ -f "$D/repository.db" ]
	for f in root.pem server.pem client.pem; do [ -f "$D/certs/$f" ]; done
	for f in server_key.pem client_key.pem root_key.pem; do
		[ "$(stat -c %a "$D/certs/$f")" = 600 ]
	done
	for d in Apps StaticContent ArchivedLogs CustomData StaticContent/Extensions; do [ -d "$S/$d" ]; done
	[ "$(conf_port "$D")" = "$P" ]
	[ "$(conf_port "$D" engine)" = "$E" ]
	grep -q "^driver = sqlite$" "$D/node.conf"
	[ "$(sqlite3 "$D/repository.db" 'SELECT version FROM schema_version')" = 11 ]
}

@test "a site of schema version 7 is brought to the latest: its form sign-in proxy keeps form sign-in" {
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost
	[ "$status" -eq 0 ]
	# as version 7 left it: Form was 5, and no OpenID Connect columns
	cols=$(sqlite3 "$D/repository.db" "SELECT name FROM pragma_table_info('virtualproxyconfig') WHERE name LIKE 'oidc%'")
	[ "$(wc -l <<<"$cols")" = 10 ]
	for c in $cols; do sqlite3 "$D/repository.db" "ALTER TABLE virtualproxyconfig DROP COLUMN $c"; done
	# and without version 9's columns and table, version 10's tables and version 11's column
	sqlite3 "$D/repository.db" "ALTER TABLE node_heartbeat DROP COLUMN engine_sessions; ALTER TABLE node_heartbeat DROP COLUMN engine_apps; DROP TABLE engine_session_state; ALTER TABLE virtualproxyconfig DROP COLUMN load_balancing_server_nodes; ALTER TABLE users DROP COLUMN attributes; DROP TABLE node_cert; DROP TABLE revoked_cert; DROP TABLE node_log; ALTER TABLE node_heartbeat DROP COLUMN running; ALTER TABLE node_heartbeat DROP COLUMN share_state"
	sqlite3 "$D/repository.db" "UPDATE virtualproxyconfig SET authentication_method = 5; UPDATE schema_version SET version = 7"
	run "$FATHOM" user list --dir "$D"
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$D/repository.db" 'SELECT version FROM schema_version')" = 11 ]
	[ "$(sqlite3 "$D/repository.db" 'SELECT authentication_method FROM virtualproxyconfig')" = 6 ]
}

@test "site create with separate share paths" {
	run "$FATHOM" site create --dir "$D" --share "$S" --apps "$BATS_TEST_TMPDIR/apps" \
		--custom-data "$BATS_TEST_TMPDIR/cd" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)"
	[ "$status" -eq 0 ]
	[ -d "$BATS_TEST_TMPDIR/apps" ]; [ -d "$BATS_TEST_TMPDIR/cd" ]; [ ! -d "$S/Apps" ]
	# the folders are the site's (its service cluster's); node.conf names only the mount
	! grep -q "^apps = " "$D/node.conf" || false
	[[ "$(sqlite3 "$D/repository.db" 'SELECT settings FROM servicecluster')" == *"\"appFolder\":\"$BATS_TEST_TMPDIR/apps\""* ]]
	run "$FATHOM" config show --dir "$D"
	[[ "$output" == *"share.apps = $BATS_TEST_TMPDIR/apps (the service cluster's)"* ]]
	[[ "$output" == *"share.static_content = $S/StaticContent (the service cluster's)"* ]]
	[ "$(sqlite3 "$D/repository.db" "SELECT connectionstring FROM dataconnection WHERE name = 'CustomData'")" = "$BATS_TEST_TMPDIR/cd" ]
}

@test "site create refuses a folder that holds a site and changes nothing" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	before=$(find "$D" "$S" -printf '%p %s %T@\n' | sort | sha256sum)
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)"
	[ "$status" -eq 1 ]; [[ "$output" == *"already holds a site"* ]]
	[ "$(find "$D" "$S" -printf '%p %s %T@\n' | sort | sha256sum)" = "$before" ]
}

@test "a failed site create leaves nothing behind" {
	: >"$BATS_TEST_TMPDIR/notadir"
	run "$FATHOM" site create --dir "$D" --share "$BATS_TEST_TMPDIR/notadir/share" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)"
	[ "$status" -eq 1 ]; [[ "$output" == *"nothing was created"* ]]
	[ ! -e "$D" ]
}

@test "run starts, logs to the folder and stops cleanly on SIGTERM" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost >/dev/null
	SITE=$D start_node "$D"
	pid=$(cat "$D/pid")
	kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
	rm -f "$D/pid"
	[ "$rc" -eq 0 ]
		grep -q "serves the repository API" "$D/logs/fathom.log"
	grep -q "stopped" "$D/logs/fathom.log"
	[ "$(sqlite3 "$D/repository.db" 'SELECT count(*) FROM node_heartbeat')" = 0 ]
}

@test "monitoring adds the monitoring app and its hourly task, reloads it, and keeps both when run again" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost --name watcher >/dev/null
	sed -i 's/^level = info$/level = info\nmax_kb = 4\nstats_s = 1\nrequests = 1/' "$D/node.conf"
	SITE=$D start_node "$D"
	out=$("$FATHOM" monitoring --dir "$D")
	grep -q 'added the app "Monitoring: site logs"' <<<"$out"
	grep -q 'added the task "Reload the monitoring app" (.*): every hour' <<<"$out"
	grep -q 'queued its first reload' <<<"$out"
	c=(--cacert "$D/certs/root.pem" --cert "$D/certs/client.pem" --key "$D/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF")
	q="xrfkey=$XRF&filter=name%20eq%20%27Reload%20the%20monitoring%20app%27"
	# its sheets come with it (web/test/hub.test.js opens them in the hub)
	app=$(sed -n 's/^added the app "Monitoring: site logs" (\(.*\))$/\1/p' <<<"$out")
	curl -s "${c[@]}" "https://localhost:$P/qrs/app/$app/objects?xrfkey=$XRF" >"$BATS_TEST_TMPDIR/objects"
	[ "$(jq -c '[.[] | select(.objectType == "sheet") | .name] | sort' "$BATS_TEST_TMPDIR/objects")" = '["Changes (audit)","Log","Nodes","Reloads and tasks","Requests and sign-ins"]' ]
	ev=$(curl -s "${c[@]}" "https://localhost:$P/qrs/schemaevent/full?xrfkey=$XRF&filter=reloadTask.name%20eq%20%27Reload%20the%20monitoring%20app%27")
	[ "$(jq -r '.[0].incrementOption' <<<"$ev")" = 1 ]
	[ "$(jq -r '.[0].timeZone' <<<"$ev")" = UTC ]
	# the first reload ends FinishedSuccess (a new site may have no archived log yet: no Log)
	for _ in $(seq 1 300); do
		st=$(curl -s "${c[@]}" "https://localhost:$P/qrs/reloadtask/full?$q" | jq -r '.[0].operational.lastExecutionResult.status // empty')
		[ "$st" = 7 ] || [ "$st" = 8 ] && break
		sleep 0.2
	done
	[ "$st" = 7 ]
	# once a node's log is archived, the next reload reads it, with the reload lines
	for _ in $(seq 1 100); do kill -HUP "$(cat "$D/pid")"; sleep 0.02; done
	for _ in $(seq 1 100); do grep -qs 'execution .* succeeded: the reload finished' "$S/ArchivedLogs/watcher/"fathom-*.log && break; sleep 0.1; done
	grep -qs 'execution .* succeeded: the reload finished' "$S/ArchivedLogs/watcher/"fathom-*.log
	"$FATHOM" task start "Reload the monitoring app" --dir "$D" --follow --timeout 120 >"$BATS_TEST_TMPDIR/f"
	grep -qE 'table Log: [1-9][0-9]* rows, 7 fields' "$BATS_TEST_TMPDIR/f"
	grep -qE 'table NodeStarts: [1-9][0-9]* rows, 2 fields' "$BATS_TEST_TMPDIR/f"
	grep -qE 'table Executions: [1-9][0-9]* rows, 7 fields' "$BATS_TEST_TMPDIR/f"
	grep -qE 'table NodeStats: [1-9][0-9]* rows, 7 fields' "$BATS_TEST_TMPDIR/f"
	grep -qE 'table Requests: [1-9][0-9]* rows, 8 fields' "$BATS_TEST_TMPDIR/f"
	grep -qE '\[[0-9]+ watcher repository [0-9a-f]{16}\] http: GET /qrs/\{type\}/full 200 [0-9.]+ ms$' "$D"/logs/fathom.log*
	grep -qE 'node stats: [0-9]+ engine sessions, [0-9]+ apps loaded \([0-9]+ MiB\), [1-9][0-9]* MiB resident' "$D"/logs/fathom.log*
	# again: both kept, nothing doubled
	out=$("$FATHOM" monitoring --dir "$D")
	grep -q 'the app "Monitoring: site logs" is there' <<<"$out"
	grep -q 'the task "Reload the monitoring app" is there' <<<"$out"
	[ "$(curl -s "${c[@]}" "https://localhost:$P/qrs/app/count?xrfkey=$XRF" | jq .value)" = 1 ]
	[ "$(curl -s "${c[@]}" "https://localhost:$P/qrs/reloadtask/count?xrfkey=$XRF" | jq .value)" = 1 ]
	run "$FATHOM" monitoring
	[ "$status" -eq 2 ]
}

@test "the log turns over at its size, keeps its count, goes to the share per node, and SIGHUP sets its level" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost --name logger >/dev/null
	sed -i 's/^level = info$/level = info\nmax_kb = 4\nkeep = 2/' "$D/node.conf"
	SITE=$D start_node "$D"
	pid=$(cat "$D/pid")
	# each SIGHUP logs a few lines: enough of them turn the 4 KiB file over more than twice
	for _ in $(seq 1 100); do kill -HUP "$pid"; sleep 0.02; done
	for _ in $(seq 1 50); do [ -f "$D/logs/fathom.log.2" ] && break; sleep 0.1; done
	[ -f "$D/logs/fathom.log.1" ]; [ -f "$D/logs/fathom.log.2" ]; [ ! -e "$D/logs/fathom.log.3" ]
	[ "$(stat -c %s "$D/logs/fathom.log.1")" -lt 6000 ]
	grep -q 'SIGHUP: logging at level info' "$D/logs/fathom.log.1"
	# the finished files are on the share, under the node's name
	for _ in $(seq 1 50); do ls "$S/ArchivedLogs/logger/"fathom-*.log >/dev/null 2>&1 && break; sleep 0.1; done
	n=$(ls "$S/ArchivedLogs/logger/" | grep -c '^fathom-.*\.log$')
	[ "$n" -ge 2 ]
	grep -q 'serves the repository API' "$S/ArchivedLogs/logger/"fathom-*.log
	! ls "$S/ArchivedLogs/logger/" | grep -q '\.part$' || false
	# examples/monitoring/site-logs.qvs reads them all back, a row per line
	made=$("$FATHOM" app create "Site logs" --dir "$D" --script "$BATS_TEST_DIRNAME/../../examples/monitoring/site-logs.qvs")
	app=$(sed -n 's/.*(\([0-9a-f-]*\)).*/\1/p' <<<"$made")
	lines=$(cat "$S/ArchivedLogs/logger/"fathom-*.log | wc -l)
	c=(--cacert "$D/certs/root.pem" --cert "$D/certs/client.pem" --key "$D/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${c[@]}" -X POST "https://localhost:$P/qrs/app/$app/reload?xrfkey=$XRF")" = 204 ]
	curl -s "${c[@]}" "https://localhost:$P/qrs/app/$app/reload/log?xrfkey=$XRF" >"$BATS_TEST_TMPDIR/rl"
	# (the node's own lines may turn the log over meanwhile: between the counts before and after)
	rows=$(sed -n 's/.*table Log: \([0-9]*\) rows, 7 fields.*/\1/p' "$BATS_TEST_TMPDIR/rl")
	[ "$rows" -ge "$lines" ]; [ "$rows" -le "$(cat "$S/ArchivedLogs/logger/"fathom-*.log | wc -l)" ]
	# that reload's own line, once archived, is a row of Reloads
	for _ in $(seq 1 100); do kill -HUP "$pid"; sleep 0.02; done
	for _ in $(seq 1 50); do grep -q "app $app reloaded in" "$S/ArchivedLogs/logger/"fathom-*.log && break; sleep 0.1; done
	[ "$(curl -s -o /dev/null -D "$BATS_TEST_TMPDIR/h" -w '%{http_code}' "${c[@]}" -X POST "https://localhost:$P/qrs/app/$app/reload?xrfkey=$XRF")" = 204 ]
	curl -s "${c[@]}" "https://localhost:$P/qrs/app/$app/reload/log?xrfkey=$XRF" >"$BATS_TEST_TMPDIR/rl"
	grep -qE 'table Reloads: [1-9][0-9]* rows, 4 fields' "$BATS_TEST_TMPDIR/rl"
	# a line names its process, node, service and request: the id the response carried
	rid=$(tr -d '\r' <"$BATS_TEST_TMPDIR/h" | sed -n 's/^X-Request-Id: \([0-9a-f]*\)$/\1/Ip')
	[ "${#rid}" -eq 16 ]
	grep -qE "^[0-9T:.-]+Z info  \[$pid logger repository $rid\] app $app reloaded in" "$D"/logs/fathom.log*
	# the reload's Log table has them as fields
	grep -qE 'table Log: [1-9][0-9]* rows, 7 fields' "$BATS_TEST_TMPDIR/rl"
	# debug on at run time: a failed TLS handshake is a debug line
	sed -i 's/^level = info$/level = debug/' "$D/node.conf"
	kill -HUP "$pid"; sleep 0.5
	curl -s -o /dev/null "http://localhost:$P/" || true
	for _ in $(seq 1 30); do cat "$D"/logs/fathom.log* | grep -q 'TLS handshake with .* failed' && break; sleep 0.1; done
	cat "$D"/logs/fathom.log* | grep -q 'TLS handshake with .* failed'
	# and off again
	sed -i 's/^level = debug$/level = warn/' "$D/node.conf"
	kill -HUP "$pid"; sleep 0.5
	before=$(cat "$D"/logs/fathom.log* | grep -c 'TLS handshake with .* failed')
	curl -s -o /dev/null "http://localhost:$P/" || true
	sleep 0.5
	[ "$(cat "$D"/logs/fathom.log* | grep -c 'TLS handshake with .* failed')" = "$before" ]
	# a change is an audit line whatever the level
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${c[@]}" -X POST -H 'Content-Type: application/json' \
		--data '{"name":"audited"}' "https://localhost:$P/qrs/tag?xrfkey=$XRF")" = 201 ]
	grep -qE "^[0-9T:.-]+Z info  \[$pid logger repository [0-9a-f]{16}\] audit: POST /qrs/tag 201 by INTERNAL\\\\sa_repository$" "$D"/logs/fathom.log*
	stop_node "$D"
}

@test "run refuses root without --allow-root" {
	[ "$(id -u)" -eq 0 ] || skip "not running as root"
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	run "$FATHOM" run --dir "$D"
	[ "$status" -eq 1 ]; [[ "$output" == *"refusing to run as root"* ]]
}

@test "run explains a folder without a site" {
	mkdir -p "$D"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"holds no site"* ]]
}

@test "run explains a missing share" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	mv "$S" "$S.moved"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"share folder share root \"$S\" does not exist"* ]]
	[[ "$output" == *"mounted"* ]]
}

@test "run explains a port in use" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	"$FATHOM" site create --dir "$D.2" --share "$S.2" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	SITE=$D start_node "$D"
	run "$FATHOM" run --dir "$D.2" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"port $P is already in use"* ]]
	stop_node "$D"
}

@test "run explains a node already running in the folder" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	SITE=$D start_node "$D"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"already running the node"* ]]
	[[ "$output" == *"pid $(cat "$D/pid")"* ]]
	stop_node "$D"
}

@test "run explains a database locked by another process" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	(echo "BEGIN EXCLUSIVE; SELECT 1;"; sleep 20) | sqlite3 "$D/repository.db" >/dev/null &
	HOLDER=$!
	sleep 0.5
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"is locked by another process"* ]]
}

@test "run explains a missing or damaged certificate" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	mv "$D/certs/server_key.pem" "$D/certs/server_key.pem.bak"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"cannot read certificate file \"$D/certs/server_key.pem\""* ]]
	mv "$D/certs/server_key.pem.bak" "$D/certs/server_key.pem"
	echo garbage >"$D/certs/server.pem"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"does not parse"* ]]
}

@test "run refuses a database whose schema is newer than it knows" {
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	sqlite3 "$D/repository.db" "UPDATE schema_version SET version = 999"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"schema version 999, newer than this fathom"* ]]
	[ "$(sqlite3 "$D/repository.db" 'SELECT version FROM schema_version')" = 999 ]
}

@test "site create --owner hands the site to the service user, who can run it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to hand files to another user"
	top=$(mktemp -d /tmp/fathom-owner-XXXXXX)
	chmod 755 "$top"
	run "$FATHOM" site create --dir "$top/site" --share "$top/share" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--hostname localhost --owner nobody
	[ "$status" -eq 0 ]
	[ -z "$(find "$top/site" "$top/share" ! -user nobody)" ]
	[ "$(stat -c %a "$top/site/certs/server_key.pem")" = 600 ]
	[ "$(stat -c %a "$top/site/certs/root_key.pem")" = 600 ]
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		"$FATHOM" run --dir "$top/site" >"$top/out.log" 2>&1 &
	pid=$!
	ok=
	for _ in $(seq 1 50); do
		if curl -s -o /dev/null --cacert "$top/site/certs/root.pem" --cert "$top/site/certs/client.pem" \
			--key "$top/site/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
			"https://localhost:$P/qrs/about?xrfkey=$XRF"; then ok=1; break; fi
		sleep 0.1
	done
	app_file "$top/app.fapp" 3000000
	s=$(curl -s -o /dev/null -w '%{http_code}' -X POST --cacert "$top/site/certs/root.pem" \
		--cert "$top/site/certs/client.pem" --key "$top/site/certs/client_key.pem" \
		-H "X-Qlik-Xrfkey: $XRF" --data-binary @"$top/app.fapp" "https://localhost:$P/qrs/app/upload?name=x&xrfkey=$XRF")
	kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
	cat "$top/out.log" >&2
	rm -rf "$top"
	[ -n "$ok" ]; [ "$s" = 201 ]; [ "$rc" -eq 0 ]
}

@test "site create --owner refuses an unknown user" {
	run "$FATHOM" site create --dir "$D" --share "$S" --owner no-such-user-here
	[ "$status" -eq 2 ]; [[ "$output" == *'there is no user "no-such-user-here"'* ]]
	[ ! -e "$D" ]
}

@test "script functions lists the engine's functions as the docs page has them" {
	run "$FATHOM" script functions
	[ "$status" -eq 0 ]
	[[ "$output" == *"| SubField | scalar | 2 to 3 |"* ]]
	[[ "$output" == *"| Sum | aggregation |"* ]]
	# the page's table of functions (the coverage of Qlik's reference follows it)
	diff <(printf '%s\n' "$output") <(sed -n '/^| function | kind |/,/^$/{/^$/d;p}' "$BATS_TEST_DIRNAME/../../docs/script-functions.md")
	run "$FATHOM" script nonsense
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: fathom script functions"* ]]
	run "$FATHOM" --help
	[[ "$output" == *"script "*"list the functions"* ]]
}
