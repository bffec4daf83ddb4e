#!/usr/bin/env bats
# Shared persistence: two real nodes on one PostgreSQL database and one share. A node joins
# with a one-time password; a change made through one node is visible through the other at
# once; concurrent updates through both never lose one; each sees the other's heartbeat; a
# person's session is good at both proxies, behind haproxy.

load helpers

setup_file() {
	pg_up
	export D1=$BATS_FILE_TMPDIR/node1 D2=$BATS_FILE_TMPDIR/node2 SH=$BATS_FILE_TMPDIR/share
	export P1 P2
	P1=$(free_port)
	P2=$(free_port)
	"$FATHOM" site create --dir "$D1" --share "$SH" --repository-port "$P1" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--name node1 --db "$DB_URL" >/dev/null
	start_node "$D1"
	join_node "$D2" "$P2" node2 "$D1"
	start_node "$D2"
}

teardown() {
	# the haproxy of the load-balancer test, if it failed before stopping it
	[ -f "$BATS_TEST_TMPDIR/haproxy.pid" ] && kill "$(cat "$BATS_TEST_TMPDIR/haproxy.pid")" 2>/dev/null || true
}

teardown_file() {
	stop_node "$D2" || true
	[ -f "$D1/pid" ] && stop_node "$D1" || true
	pg_down
}

@test "both nodes serve the whole API and list each other" {
	s=$(on 2 GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '[.[].name] | sort | join(",")')" = "node1,node2" ]
	[ "$(jqb '.[] | select(.name == "node2") | .isCentral')" = false ]
	[ "$(jqb '.[] | select(.name == "node1") | .isCentral')" = true ]
	s=$(on 1 GET /qrs/servicestatus); expect 200 "$s"
	[ "$(jqb '[.[].serviceState] | join(",")')" = "2,2" ]
}

@test "the joined node's certificates come from the site CA: one client certificate works on both" {
	cmp "$D1/certs/root.pem" "$D2/certs/root.pem"
	[ "$(stat -c %a "$D2/certs/server_key.pem")" = 600 ]
	s=$(SITE=$D1 BASE=https://localhost:$P2 api GET /qrs/about); expect 200 "$s"
	[ "$(jqb .serverNodeId)" = "$(sed -n 's/^id = //p' "$D2/node.conf")" ]
}

@test "a change through one node is visible through the other at once" {
	for i in $(seq 1 20); do
		s=$(json_on 1 POST /qrs/tag "{\"name\":\"vis$i\"}"); expect 201 "$s"
		id=$(jqb .id); md=$(jqb .modifiedDate)
		s=$(on 2 GET "/qrs/tag/$id"); expect 200 "$s"
		s=$(json_on 2 PUT "/qrs/tag/$id" \
			"{\"name\":\"vis$i-b\",\"modifiedDate\":\"$md\"}"); expect 200 "$s"
		s=$(on 1 GET "/qrs/tag/$id"); [ "$(jqb .name)" = "vis$i-b" ]
	done
}

@test "concurrent PUTs of one entity through both nodes: exactly one wins" {
	s=$(json_on 1 POST /qrs/tag '{"name":"contended"}'); id=$(jqb .id)
	md=$(jqb .modifiedDate)
	pids=()
	for i in $(seq 1 10); do
		if [ $((i % 2)) -eq 0 ]; then d=$D1 p=$P1; else d=$D2 p=$P2; fi
		( curl -s -o /dev/null -w '%{http_code}\n' -X PUT --cacert "$d/certs/root.pem" \
			--cert "$d/certs/client.pem" --key "$d/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
			-H 'Content-Type: application/json' --data "{\"name\":\"w$i\",\"modifiedDate\":\"$md\"}" \
			"https://localhost:$p/qrs/tag/$id?xrfkey=$XRF" >"$BATS_TEST_TMPDIR/put.$i" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	[ "$(cat "$BATS_TEST_TMPDIR"/put.* | grep -c '^200$')" = 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR"/put.* | grep -c '^409$')" = 9 ]
}

@test "an app uploaded through one node is exported and copied through the other" {
	app_file "$BATS_TEST_TMPDIR/app.qvf" 2000000
	s=$(on 1 POST "/qrs/app/upload?name=Shared" \
		--data-binary @"$BATS_TEST_TMPDIR/app.qvf"); expect 201 "$s"
	id=$(jqb .id)
	token=$(cat /proc/sys/kernel/random/uuid)
	s=$(on 2 POST "/qrs/app/$id/export/$token"); expect 201 "$s"
	curl -s -o "$BATS_TEST_TMPDIR/dl" --cacert "$D2/certs/root.pem" --cert "$D2/certs/client.pem" \
		--key "$D2/certs/client_key.pem" "https://localhost:$P2$(jqb .downloadPath)"
	cmp "$BATS_TEST_TMPDIR/dl" "$BATS_TEST_TMPDIR/app.qvf"
	s=$(on 2 POST "/qrs/app/$id/copy?name=Copied"); expect 201 "$s"
	[ "$(jqb .fileSize)" = "$(stat -c %s "$BATS_TEST_TMPDIR/app.qvf")" ]
}

@test "registration: wrong, reused and expired passwords and a taken name are refused" {
	D3=$BATS_TEST_TMPDIR/node3
	run "$FATHOM" node join --dir "$D3" --share "$SH" --db "$DB_URL" --name node1 --repository-port 1 --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)"
	[ "$status" -eq 1 ]; [[ "$output" == *'already has a node named "node1"'* ]]
	[ ! -e "$D3" ]
	run "$FATHOM" node join --dir "$D3" --share "$BATS_TEST_TMPDIR/nowhere" --db "$DB_URL" --name node3
	[ "$status" -eq 1 ]; [[ "$output" == *"mount it first"* ]]; [ ! -e "$D3" ]
	"$FATHOM" node join --dir "$D3" --share "$SH" --db "$DB_URL" --name node3 --repository-port 1 --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	run "$FATHOM" run --dir "$D3" $(root_flag)
	echo "$output" >&2
	[ "$status" -eq 1 ]; [[ "$output" == *"has not finished joining"* ]]
	run "$FATHOM" node join --dir "$D3" --password not-approved-yet
	[ "$status" -eq 1 ]; [[ "$output" == *"not approved yet"* ]]
	pw=$("$FATHOM" node approve node3 --dir "$D1" 2>/dev/null)
	run "$FATHOM" node join --dir "$D3" --password "wrong$pw"
	[ "$status" -eq 1 ]; [[ "$output" == *"the password is wrong"* ]]
	[ ! -e "$D3/certs/server.pem" ]
	run "$FATHOM" node join --dir "$D3" --password "$pw"
	[ "$status" -eq 0 ]; [ -f "$D3/certs/server.pem" ]
	rm "$D3/certs/"*.pem
	run "$FATHOM" node join --dir "$D3" --password "$pw"
	[ "$status" -eq 1 ]; [[ "$output" == *"already used"* ]]
	D4=$BATS_TEST_TMPDIR/node4
	"$FATHOM" node join --dir "$D4" --share "$SH" --db "$DB_URL" --name node4 --repository-port 1 --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" >/dev/null
	pw=$("$FATHOM" node approve node4 --dir "$D1" --valid-for 1 2>/dev/null)
	sleep 2
	run "$FATHOM" node join --dir "$D4" --password "$pw"
	[ "$status" -eq 1 ]; [[ "$output" == *"expired"* ]]
	run "$FATHOM" node approve nosuchnode --dir "$D1"
	[ "$status" -eq 1 ]; [[ "$output" == *'no node named "nosuchnode" is waiting'* ]]
	for n in node3 node4; do
		id=$(pg_sql fathom "SELECT id FROM servernodeconfiguration WHERE name = '$n'")
		s=$(on 1 DELETE "/qrs/servernodeconfiguration/$id"); expect 204 "$s"
	done
}

@test "a node registered and approved through the API joins with its one-time password" {
	s=$(on 1 GET /qrs/servernodeconfiguration/local); expect 200 "$s"
	[ "$(jqb .name)" = node1 ]
	s=$(on 1 GET /qrs/servernodeconfiguration/container); expect 200 "$s"
	[ "$(jqb .schemaPath)" = ServerNodeResultContainer ]
	[ "$(jqb .configuration.engineEnabled)" = true ]
	s=$(json_on 1 POST /qrs/servernodeconfiguration/container '{}'); expect 400 "$s"
	s=$(json_on 1 POST /qrs/servernodeconfiguration/container \
		'{"configuration":{"hostName":"localhost"}}'); expect 400 "$s"
	s=$(json_on 1 POST /qrs/servernodeconfiguration/container \
		'{"configuration":{"name":"node3","hostName":"localhost","nodePurpose":2,"printingEnabled":true}}')
	expect 201 "$s"
	[ "$(jqb .schemaPath)" = ServerNodeResultContainer ]
	id=$(jqb .configuration.id)
	[ "$(jqb .configuration.nodePurpose)" = 2 ]
	[ "$(jqb .configuration.isCentral)" = false ]
	[ "$(jqb .configuration.serviceCluster.id)" != null ]
	[ "$(pg_sql fathom "SELECT state FROM node_registration WHERE node_id = '$id'")" = pending ]
	s=$(json_on 1 POST /qrs/servernodeconfiguration/container \
		'{"configuration":{"name":"node3","hostName":"elsewhere"}}'); expect 409 "$s"
	# Only the node that holds the CA key approves: node2 passes the request on to node1
	# (a node-to-node call with the site's certificates). The answer is a bare JSON string.
	s=$(on 1 GET "/qrs/servernoderegistration/start/00000000-0000-0000-0000-000000000001"); expect 404 "$s"
	s=$(on 2 GET "/qrs/servernoderegistration/start/00000000-0000-0000-0000-000000000001"); expect 404 "$s"
	s=$(on 2 GET "/qrs/servernoderegistration/start/$id" -D "$BATS_TEST_TMPDIR/h"); expect 200 "$s"
	grep -qi '^X-Fathom-Answered-By: node1' "$BATS_TEST_TMPDIR/h"
	grep -q "approval for $id passed to node \"node1\"" "$D2/stderr.log"
	[ "$(jqb type)" = string ]
	pw=$(jqb .)
	[ ${#pw} -ge 16 ]
	D3=$BATS_TEST_TMPDIR/node3
	P3=$(free_port)
	run "$FATHOM" node join --dir "$D3" --share "$SH" --db "$DB_URL" --name node3 \
		--repository-port "$P3" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost --password wrong-password
	[ "$status" -eq 1 ]
	[[ "$output" == *"nothing was created"* ]]
	[ ! -e "$D3" ]
	run "$FATHOM" node join --dir "$D3" --share "$SH" --db "$DB_URL" --name node3 \
		--repository-port "$P3" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost --password "$pw"
	[ "$status" -eq 0 ]
	start_node "$D3"
	s=$(on 3 GET /qrs/servernodeconfiguration/local); expect 200 "$s"
	[ "$(jqb .id)" = "$id" ]
	[ "$(jqb .printingEnabled)" = true ]
	stop_node "$D3"
	s=$(on 1 DELETE "/qrs/servernodeconfiguration/$id"); expect 204 "$s"
}

@test "the database stops while clients write through both nodes: no node exits, every acknowledged write is kept" {
	writer "$D1" "$P1" tag a & w1=$!
	writer "$D2" "$P2" tag b & w2=$!
	sleep 1.5
	pg_stop
	sleep 6
	pg_start
	sleep 3
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$w1" "$w2"
	kill -0 "$(cat "$D1/pid")"
	kill -0 "$(cat "$D2/pid")"
	cat "$BATS_TEST_TMPDIR"/writes.* >"$BATS_TEST_TMPDIR/all"
	# Writes were acknowledged before, refused with 503 during, and acknowledged after.
	[ "$(grep -c '^201 ' "$BATS_TEST_TMPDIR/all")" -gt 10 ]
	[ "$(grep -c '^503 ' "$BATS_TEST_TMPDIR/all")" -gt 0 ]
	[ "$(tail -n 3 "$BATS_TEST_TMPDIR/writes.a" | grep -c '^201 ')" = 3 ]
	[ "$(tail -n 3 "$BATS_TEST_TMPDIR/writes.b" | grep -c '^201 ')" = 3 ]
	# Only 201 and 503 were answered, and every acknowledged write is in the database.
	[ "$(grep -vc '^201 \|^503 ' "$BATS_TEST_TMPDIR/all")" = 0 ]
	grep '^201 ' "$BATS_TEST_TMPDIR/all" | cut -d' ' -f2 | sort >"$BATS_TEST_TMPDIR/acked"
	pg_sql fathom "SELECT name FROM tag WHERE name LIKE 'a-%' OR name LIKE 'b-%'" | sort >"$BATS_TEST_TMPDIR/stored"
	[ -z "$(comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/stored")" ]
}

@test "a node killed with SIGKILL shows as NoCommunication on the other within three beats" {
	kill9_node "$D1"
	sleep 4
	s=$(on 2 GET /qrs/servicestatus); expect 200 "$s"
	[ "$(jqb '.[] | select(.serverNodeConfiguration.name == "node1") | .serviceState')" = 3 ]
	[ "$(jqb '.[] | select(.serverNodeConfiguration.name == "node2") | .serviceState')" = 2 ]
	s=$(on 2 GET /qrs/tag/count); expect 200 "$s"
	# Approving a node needs the CA holder: node2 says it is down.
	s=$(json_on 2 POST /qrs/servernodeconfiguration/container \
		'{"configuration":{"name":"node4","hostName":"localhost"}}'); expect 201 "$s"
	id=$(jqb .configuration.id)
	s=$(on 2 GET "/qrs/servernoderegistration/start/$id"); expect 503 "$s"
	[[ "$(jqb .message)" == *'"node1", which holds the site CA key, is not running'* ]]
	s=$(on 2 DELETE "/qrs/servernodeconfiguration/$id"); expect 204 "$s"
	start_node "$D1"
	s=$(on 2 GET /qrs/servicestatus)
	[ "$(jqb '[.[].serviceState] | join(",")')" = "2,2" ]
}

@test "a session made at one node's proxy is good at the other's, behind haproxy round robin; sign-out ends it everywhere" {
	printf 'boss password\n' | "$FATHOM" user add boss --dir "$D1" --role RootAdmin >/dev/null
	local x1 x2 h cfg=$BATS_TEST_TMPDIR/haproxy.cfg
	x1=$(conf_port "$D1" proxy); x2=$(conf_port "$D2" proxy); h=$(free_port)
	cat >"$cfg" <<CFG
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend people
	bind 127.0.0.1:$h
	default_backend proxies
backend proxies
	balance roundrobin
	server node1 127.0.0.1:$x1
	server node2 127.0.0.1:$x2
CFG
	haproxy -f "$cfg" -D -p "$BATS_TEST_TMPDIR/haproxy.pid"
	local C=(curl -s --cacert "$D1/certs/root.pem")
	st=$("${C[@]}" -o /dev/null -w '%{http_code}' -c "$BATS_TEST_TMPDIR/jar" \
		--data-urlencode username=boss --data-urlencode 'password=boss password' "https://localhost:$h/sign-in")
	[ "$st" = 303 ]
	# each call is a new connection: haproxy takes turns, with no stickiness
	names=()
	for i in 1 2 3 4; do
		st=$("${C[@]}" -o "$BATS_TEST_TMPDIR/local" -w '%{http_code}' -b "$BATS_TEST_TMPDIR/jar" \
			-H "X-Qlik-Xrfkey: $XRF" "https://localhost:$h/qrs/servernodeconfiguration/local?xrfkey=$XRF")
		[ "$st" = 200 ]
		names+=("$(jq -r .name "$BATS_TEST_TMPDIR/local")")
	done
	[ "$(printf '%s\n' "${names[@]}" | sort -u | paste -sd,)" = node1,node2 ]
	# signed out through one node, the session is gone at both
	st=$("${C[@]}" -o /dev/null -w '%{http_code}' -b "$BATS_TEST_TMPDIR/jar" -X POST "https://localhost:$h/sign-out")
	[ "$st" = 303 ]
	for x in "$x1" "$x2"; do
		st=$("${C[@]}" -o /dev/null -w '%{http_code}' -b "$BATS_TEST_TMPDIR/jar" "https://localhost:$x/qps/user")
		[ "$st" = 401 ]
	done
}

@test "an engine session goes where the rules say, through the other node's proxy; when that node dies, the reconnect resumes its selections" {
	printf 'walker password\n' | "$FATHOM" user add walker --dir "$D1" --role RootAdmin >/dev/null
	printf 'T: LOAD * INLINE [Region, Amount\nEast, 1\nWest, 2\nNorth, 3];\n' >"$BATS_TEST_TMPDIR/s.qvs"
	"$FATHOM" app create Routed --dir "$D1" --script "$BATS_TEST_TMPDIR/s.qvs" >/dev/null
	s=$(on 1 GET "/qrs/app?filter=name%20eq%20'Routed'"); expect 200 "$s"
	id=$(jqb '.[0].id')
	s=$(on 1 POST "/qrs/app/$id/reload"); expect 204 "$s"
	# only node2 may serve the app
	s=$(json_on 1 POST /qrs/systemrule "{\"name\":\"on node2\",\"category\":\"Sync\",\"resourceFilter\":\"App_$id\",\"rule\":\"node.name = \\\"node2\\\"\",\"actions\":1}")
	expect 201 "$s"
	rule=$(jqb .id)
	local x1 out=$BATS_TEST_TMPDIR/client
	x1=$(conf_port "$D1" proxy)
	curl -s -o /dev/null -D "$BATS_TEST_TMPDIR/h" --cacert "$D1/certs/root.pem" --data-urlencode username=walker \
		--data-urlencode 'password=walker password' "https://localhost:$x1/sign-in"
	sid=$(sed -n 's/^Set-Cookie: X-Qlik-Session=\([^;]*\);.*/\1/ip' "$BATS_TEST_TMPDIR/h")
	[ -n "$sid" ]
	# a session the client ends itself
	run node "$BATS_TEST_DIRNAME/reconnect.js" "https://localhost:$x1" "$D1/certs/root.pem" "$sid" "$id" once
	[ "$status" -eq 0 ]
	# and ClientPlatform() there is the browser's, which node1's proxy passed on
	[ "$output" = $'fields 2\nplatform reconnect.js/1 (test)' ]
	grep -q "walker's engine session on app $id goes to node node2" "$D1/stderr.log"
	# a virtual proxy that names node1 as its only engine node sends nobody to node2, and
	# the rule allows nobody else: no engine may take the session
	s=$(on 1 GET /qrs/virtualproxyconfig/full); expect 200 "$s"
	vp=$(jqb '.[] | select(.prefix == "") | .id')
	md=$(jqb '.[] | select(.prefix == "") | .modifiedDate')
	s=$(json_on 1 PUT "/qrs/virtualproxyconfig/$vp" \
		"{\"modifiedDate\":\"$md\",\"loadBalancingServerNodes\":[{\"id\":\"$(sed -n 's/^id = //p' "$D1/node.conf")\"}]}")
	expect 200 "$s"
	md=$(jqb .modifiedDate)
	local ws=(-s -o /dev/null -w '%{http_code}' -m 2 --cacert "$D1/certs/root.pem" -H 'Connection: Upgrade'
		-H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
		-b "X-Qlik-Session=$sid" -H "Origin: https://localhost:$x1" "https://localhost:$x1/app/$id")
	for _ in $(seq 1 30); do st=$(curl "${ws[@]}") || true; [ "$st" = 503 ] && break; sleep 0.2; done
	[ "$st" = 503 ]
	s=$(json_on 1 PUT "/qrs/virtualproxyconfig/$vp" \
		"{\"modifiedDate\":\"$md\",\"loadBalancingServerNodes\":[]}")
	expect 200 "$s"
	for _ in $(seq 1 30); do st=$(curl "${ws[@]}") || true; [ "$st" = 101 ] && break; sleep 0.2; done
	[ "$st" = 101 ]
	local mark
	mark=$(wc -l <"$D1/stderr.log")
	node "$BATS_TEST_DIRNAME/reconnect.js" "https://localhost:$x1" "$D1/certs/root.pem" "$sid" "$id" Region West \
		>"$out" 2>"$out.err" &
	local client=$!
	for _ in $(seq 1 100); do grep -q '^selected' "$out" && break; sleep 0.2; done
	grep -q '^selected' "$out" || { cat "$out.err" >&2; false; }
	# node1's proxy relayed the session to node2's engine
	tail -n +"$((mark + 1))" "$D1/stderr.log" | grep -q "walker's engine session on app $id goes to node node2"
	# the selection is kept in the database, under a key that is not the session's hash
	[ "$(pg_sql fathom "SELECT selections FROM engine_session_state WHERE app_id = '$id'")" = '{"Region":["West"]}' ]
	key=$(pg_sql fathom "SELECT state_key FROM engine_session_state WHERE app_id = '$id'")
	[ "$(pg_sql fathom "SELECT count(*) FROM proxy_session WHERE id_hash = '$key'")" = 0 ]
	# node1 may serve it too from now on; node2 dies under the live session
	s=$(on 1 DELETE "/qrs/systemrule/$rule"); expect 204 "$s"
	kill9_node "$D2"
	local rc=0
	wait "$client" || rc=$?
	cat "$out" "$out.err" >&2
	[ "$rc" = 0 ]
	grep -q '^closed ' "$out"
	grep -qx 'resumed Region=West' "$out"
	grep -q "resumes 1 field selections in app $id" "$D1/stderr.log"
	start_node "$D2"
}

@test "a removed node's certificates are refused at once by every node; it stops; the share and the repository stay" {
	D3=$BATS_TEST_TMPDIR/node3
	P3=$(free_port)
	join_node "$D3" "$P3" node3 "$D1"
	start_node "$D3"
	id3=$(sed -n 's/^id = //p' "$D3/node.conf")
	[ "$(pg_sql fathom "SELECT count(*) FROM node_cert WHERE node_id = '$id3'")" = 2 ]
	# node3's client certificate is good at node1 and node2 (the site's CA signed it)
	s=$(SITE=$D3 BASE=https://localhost:$P1 api GET /qrs/about); expect 200 "$s"
	s=$(SITE=$D3 BASE=https://localhost:$P2 api GET /qrs/about); expect 200 "$s"
	apps=$(pg_sql fathom "SELECT count(*) FROM app")
	files=$(ls "$SH/Apps" | wc -l)
	# a node does not remove itself, nor the central role's holder
	run "$FATHOM" node remove node1 --dir "$D1"
	[ "$status" -eq 1 ]; [[ "$output" == *"cannot remove itself"* ]]
	central=$(pg_sql fathom "SELECT n.name FROM central_lease l JOIN servernodeconfiguration n ON n.id = l.holder")
	other=$D2; [ "$central" = node2 ] && other=$D1
	run "$FATHOM" node remove "$central" --dir "$other"
	[ "$status" -eq 1 ]; [[ "$output" == *"holds the central role"* ]]; [[ "$output" == *"move the central role"* ]]
	run "$FATHOM" node remove nosuchnode --dir "$D1"
	[ "$status" -eq 1 ]; [[ "$output" == *'no node named "nosuchnode"'* ]]
	# node3 removed through node1's folder: node3 stops by itself within a heartbeat
	run "$FATHOM" node remove node3 --dir "$D1"
	[ "$status" -eq 0 ]; [[ "$output" == *'removed node "node3"'* ]]
	for _ in $(seq 1 100); do kill -0 "$(cat "$D3/pid")" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$(cat "$D3/pid")" 2>/dev/null || false
	grep -q 'this node was removed from the site' "$D3/stderr.log"
	rm -f "$D3/pid"
	[ "$(pg_sql fathom "SELECT count(*) FROM servernodeconfiguration WHERE id = '$id3'")" = 0 ]
	[ "$(pg_sql fathom "SELECT count(*) FROM revoked_cert WHERE node_id = '$id3'")" = 2 ]
	# every node refuses its certificate within a heartbeat (1 s here), on a new connection
	for p in "$P1" "$P2"; do
		for _ in $(seq 1 50); do
			s=$(SITE=$D3 BASE=https://localhost:$p api GET /qrs/about) || true
			[ "$s" = 403 ] && break
			sleep 0.1
		done
		expect 403 "$s"
		jqb .message | grep -q 'revoked'
	done
	# and so does the engine port, where services open QIX sessions
	e1=$(conf_port "$D1" engine)
	s=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' --cacert "$D1/certs/root.pem" --cert "$D3/certs/client.pem" \
		--key "$D3/certs/client_key.pem" "https://localhost:$e1/app/$id3")
	[ "$s" = 403 ]; grep -q revoked "$(BODY_FILE)"
	s=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' --cacert "$D1/certs/root.pem" --cert "$D1/certs/client.pem" \
		--key "$D1/certs/client_key.pem" "https://localhost:$e1/app/$id3")
	[ "$s" != 403 ]
	# the others' certificates still work; the apps and their files are all there
	s=$(on 1 GET /qrs/about); expect 200 "$s"
	s=$(on 2 GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '[.[].name] | sort | join(",")')" = "node1,node2" ]
	[ "$(pg_sql fathom "SELECT count(*) FROM app")" = "$apps" ]
	[ "$(ls "$SH/Apps" | wc -l)" = "$files" ]
	# the removed node's folder does not start again
	run "$FATHOM" run --dir "$D3" $(root_flag)
	[ "$status" -ne 0 ]; [[ "$output" == *"is not in the site's repository"* ]]; [[ "$output" == *"it was removed"* ]]
}
