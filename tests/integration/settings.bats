#!/usr/bin/env bats
# Site settings a running site takes: the service cluster's shared persistence folders and
# central-role TTL (checked when saved, the folders taken by each node when it restarts),
# and each node's services (engine, proxy, scheduler) from its row. Until a node restarts,
# /qrs/servicestatus/full says what it waits for. The engine's memory for open apps follows
# the machine's (or its control group's) unless node.conf sets it.

load helpers

setup() {
	node_vars
	SITE=$D
	BASE=https://localhost:$P
	make_site "$D" "$S" "$P"
	start_node "$D"
}

teardown() { stop_node_if_running; }

# restart_for: the node's restartNeeded reasons, one per line.
restart_for() {
	expect 200 "$(api GET /qrs/servicestatus/full)"
	jqb '.[0].restartNeeded[]'
}

@test "the service cluster's folders and TTL are checked when saved and taken at restart; a node's services follow its row" {
	expect 200 "$(api GET /qrs/servicecluster/full)"
	id=$(jqb '.[0].id')
	cluster=$(jqb '.[0]')
	[ "$(jqb '.[0].settings.sharedPersistenceProperties.appFolder')" = "$S/Apps" ]
	[ -z "$(restart_for)" ]
	expect 200 "$(api GET /qrs/servicestatus/full)"
	[ "$(jqb -c '.[0].services')" = '["repository","engine","proxy","scheduler"]' ]

	# refused: a folder missing on this node, a relative one, a TTL out of range
	bad=$(jq -c --arg f "$S/Apps2" '.settings.sharedPersistenceProperties.appFolder = $f' <<<"$cluster")
	expect 400 "$(json PUT "/qrs/servicecluster/$id" "$bad")"
	[[ "$(cat "$(BODY_FILE)")" == *"appFolder: \\\"$S/Apps2\\\" is not a writable folder on this node"* ]]
	bad=$(jq -c '.settings.sharedPersistenceProperties.staticContentRootFolder = "Static"' <<<"$cluster")
	expect 400 "$(json PUT "/qrs/servicecluster/$id" "$bad")"
	[[ "$(cat "$(BODY_FILE)")" == *"staticContentRootFolder"*"not an absolute path"* ]]
	bad=$(jq -c '.settings.centralRoleTtlSeconds = 1' <<<"$cluster")
	expect 400 "$(json PUT "/qrs/servicecluster/$id" "$bad")"
	[[ "$(cat "$(BODY_FILE)")" == *"centralRoleTtlSeconds must be a whole number of seconds from 3 to 3600"* ]]
	[ -z "$(restart_for)" ]

	# a new apps folder and TTL: saved; the node waits for a restart to use the folder
	mkdir "$S/Apps2"
	good=$(jq -c --arg f "$S/Apps2" '.settings.sharedPersistenceProperties.appFolder = $f | .settings.centralRoleTtlSeconds = 20' <<<"$cluster")
	expect 200 "$(json PUT "/qrs/servicecluster/$id" "$good")"
	[ "$(restart_for)" = "use the new apps folder" ]
	# the node's proxy as a QRS proxy service: the node's id, its ports, every virtual proxy
	px=$(sed -n '/^\[proxy\]/,/^\[/s/^port = //p' "$D/node.conf")
	pa=$(sed -n '/^\[proxy\]/,/^\[/s/^api_port = //p' "$D/node.conf")
	expect 200 "$(api GET /qrs/proxyservice/full)"
	nid=$(sed -n 's/^id = //p' "$D/node.conf")
	[ "$(jqb length)" = 1 ]; [ "$(jqb '.[0].id')" = "$nid" ]
	[ "$(jqb '.[0].settings.listenPort')" = "$px" ]; [ "$(jqb '.[0].settings.restListenPort')" = "$pa" ]
	[ "$(jqb '.[0].settings.virtualProxies | length')" = "$(sql 'SELECT count(*) FROM virtualproxyconfig')" ]
	expect 200 "$(api GET /qrs/proxyservice/local)"
	[ "$(jqb .serverNodeConfiguration.name)" = node1 ]
	expect 404 "$(api GET /qrs/proxyservice/00000000-0000-0000-0000-000000000001)"
	expect 405 "$(json PUT "/qrs/proxyservice/$nid" '{}')"
	[[ "$(cat "$(BODY_FILE)")" == *"node.conf"* ]]
	# the node's row turns its proxy off: one more reason
	expect 200 "$(api GET /qrs/servernodeconfiguration/full)"
	node=$(jqb -c '.[0] | .proxyEnabled = false')
	nid=$(jqb -r '.[0].id')
	expect 200 "$(json PUT "/qrs/servernodeconfiguration/$nid" "$node")"
	[ "$(restart_for | sort | tr '\n' ,)" = "stop the proxy,use the new apps folder," ]
	curl -sk -o /dev/null "https://localhost:$px/"

	stop_node "$D"
	start_node "$D"
	[ -z "$(restart_for)" ]
	expect 200 "$(api GET /qrs/servicestatus/full)"
	[ "$(jqb -c '.[0].services')" = '["repository","engine","scheduler"]' ]
	grep -q 'runs the repository, the engine, the scheduler$' "$D/stderr.log"
	run curl -sk -o /dev/null "https://localhost:$px/"
	[ "$status" -ne 0 ]
	expect 200 "$(api GET /qrs/proxyservice/count)"
	[ "$(jqb .value)" = 0 ]
	# uploads land in the new folder
	app_file "$BATS_TEST_TMPDIR/a.fapp" 1000
	expect 201 "$(upload moved "$BATS_TEST_TMPDIR/a.fapp")"
	[ "$(ls "$S/Apps2" | wc -l)" = 1 ]
	# the TTL is the central role's from its next renewal, without a restart
	sleep 2
	[ "$(sqlite3 "$D/repository.db" "SELECT (julianday(expires_at) - julianday('now')) * 86400 > 15 FROM central_lease")" = 1 ]

	# node.conf's own folder wins over the cluster's, and is not waited for
	stop_node "$D"
	mkdir "$S/Mine"
	"$FATHOM" config set --dir "$D" share.apps="$S/Mine" >/dev/null 2>&1
	start_node "$D"
	mkdir "$S/Apps3"
	expect 200 "$(api GET /qrs/servicecluster/full)"
	good=$(jq -c --arg f "$S/Apps3" '.[0].settings.sharedPersistenceProperties.appFolder = $f | .[0]' "$(BODY_FILE)")
	expect 200 "$(json PUT "/qrs/servicecluster/$id" "$good")"
	[ -z "$(restart_for)" ]
	run "$FATHOM" config show --dir "$D"
	[[ "$output" == *"share.apps = $S/Mine (this node's own)"* ]]
	[[ "$output" == *"share.archived_logs = $S/ArchivedLogs (the service cluster's)"* ]]
}

@test "the engine keeps apps no session holds within 70 % of the memory it may use, or [engine] memory_mb" {
	# the machine's memory (/proc/meminfo here, sysconf in the node), or the limit of the
	# control group this shell and the node are in when lower (cgroup v2 or v1)
	mem=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
	while IFS=: read -r _ ctl cg; do
		case $ctl in
		'') f=/sys/fs/cgroup${cg%/}/memory.max ;;
		memory) f=/sys/fs/cgroup/memory${cg%/}/memory.limit_in_bytes ;;
		*) continue ;;
		esac
		lim=$(cat "$f" 2>/dev/null) || continue
		[[ $lim =~ ^[0-9]+$ ]] && [ "$lim" -lt "$mem" ] && mem=$lim
	done </proc/self/cgroup
	want=$((mem / 10 * 7 >> 20))
	[ "$want" -ge 1024 ] || want=1024
	grep -q "apps no session holds are closed past $want MiB" "$D/logs/fathom.log"
	stop_node "$D"
	printf '\n[engine]\nmemory_mb = 2048\n' >>"$D/node.conf"
	start_node "$D"
	grep -q "apps no session holds are closed past 2048 MiB" "$D/logs/fathom.log"
}
