#!/usr/bin/env bats
# A backup of a three-node site on PostgreSQL taken from one node while the others work:
# apps uploaded through node2, apps reloaded through node3 (each reload a new app
# generation, the old one collected), tags written through node1. The backup verifies,
# restores onto a new site, and holds one point in time: everything acknowledged before it
# started, nothing that is not in the source, every app with the very file of the
# generation its row names.

load helpers

setup_file() { three_nodes_up; }

teardown() {
	touch "$BATS_TEST_TMPDIR/stop" # (the loops of a test that failed midway)
}

teardown_file() { three_nodes_down; }

# uploads until $BATS_TEST_TMPDIR/stop: "status name" lines in uploads.log
uploader() {
	local i=0 s
	while [ ! -f "$BATS_TEST_TMPDIR/stop" ]; do
		i=$((i + 1))
		s=$(on 2 POST "/qrs/app/upload?name=Up$i" -H 'Content-Type: application/vnd.qlik.sense.app' \
			--data-binary @"$BATS_TEST_TMPDIR/up.qvf" -m 30)
		echo "$s Up$i" >>"$BATS_TEST_TMPDIR/uploads.log"
	done
}

# reloads the apps named in $@ in turn until stop: a status line each in reloads.log
reloader() {
	local s
	while [ ! -f "$BATS_TEST_TMPDIR/stop" ]; do
		for a in "$@"; do
			s=$(on 3 POST "/qrs/app/$a/reload" -m 60)
			echo "$s $a" >>"$BATS_TEST_TMPDIR/reloads.log"
		done
	done
}

# entities_of N: the apps, streams, users, tasks and tags as node N serves them, one JSON
# line each (an app's file is checked by check_consistency: a reload changes it)
entities_of() {
	on "$1" GET /qrs/app/full >/dev/null
	jqb -c '.[] | {app: .id, name, stream: .stream.name}'
	for t in stream user reloadtask tag; do
		on "$1" GET "/qrs/$t" >/dev/null
		jqb -c --arg t "$t" '.[] | {($t): .id, name: (.name // .userId)}'
	done
}

@test "a three-node site backs up while apps are uploaded and reloaded through the other nodes, and restores to one point in time" {
	# what the site holds before: a stream, a task, apps with data to reload
	printf 'T: LOAD RecNo() AS n, Rand() AS r AUTOGENERATE 200000;\n' >"$BATS_TEST_TMPDIR/r.qvs"
	local apps=() a
	for i in 1 2 3; do
		a=$("$FATHOM" app create "Reloaded$i" --dir "$D1" --script "$BATS_TEST_TMPDIR/r.qvs" | sed -n 's/.*(\([0-9a-f-]*\)).*/\1/p')
		apps+=("$a")
		s=$(on 3 POST "/qrs/app/$a/reload"); expect 204 "$s"
	done
	s=$(json_on 1 POST /qrs/stream '{"name":"Finance"}'); expect 201 "$s"
	s=$(json_on 1 POST /qrs/reloadtask/create "{\"task\":{\"name\":\"Nightly\",\"app\":{\"id\":\"${apps[0]}\"}}}"); expect 201 "$s"
	"$FATHOM" app file --out "$BATS_TEST_TMPDIR/up.qvf" --padding-bytes 3000000 >/dev/null

	# the three of them at work; the backup starts once each has done something
	rm -f "$BATS_TEST_TMPDIR/stop"
	uploader &
	local up=$!
	reloader "${apps[@]}" &
	local rl=$!
	writer "$D1" "$P1" tag t 0.02 &
	local wr=$!
	for _ in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/uploads.log" ] && [ -s "$BATS_TEST_TMPDIR/reloads.log" ] &&
			[ -s "$BATS_TEST_TMPDIR/writes.t" ] && break
		sleep 0.1
	done
	# acknowledged before the backup starts: these must all be in it
	cp "$BATS_TEST_TMPDIR/uploads.log" "$BATS_TEST_TMPDIR/uploads.before"
	cp "$BATS_TEST_TMPDIR/writes.t" "$BATS_TEST_TMPDIR/writes.before"
	local b=$BATS_TEST_TMPDIR/backup
	run "$FATHOM" backup --dir "$D1" --to "$b" --quiet
	# the work goes on after it, until each seed app has been reloaded twice
	for _ in $(seq 1 600); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/reloads.log")" -ge 6 ] && break
		sleep 0.1
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$up" "$rl" "$wr"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# nothing failed meanwhile, and each did enough to overlap the backup
	! grep -v '^201 ' "$BATS_TEST_TMPDIR/uploads.log" || false
	! grep -v '^204 ' "$BATS_TEST_TMPDIR/reloads.log" || false
	! grep -v '^201 ' "$BATS_TEST_TMPDIR/writes.t" || false
	[ "$(wc -l <"$BATS_TEST_TMPDIR/reloads.log")" -ge 6 ]
	run "$FATHOM" backup verify "$b"
	[ "$status" -eq 0 ] || { echo "$output"; false; }

	# restored onto a new single-node site
	local d4=$BATS_TEST_TMPDIR/site4 s4=$BATS_TEST_TMPDIR/share4
	"$FATHOM" restore --from "$b" --dir "$d4" --share "$s4" --quiet
	# (the restored node keeps node1's ports, which node1 holds on this machine: new ones)
	local ports=() k
	for k in 1 2 3 4 5; do ports+=("$(free_port)"); done
	awk -v ports="${ports[*]}" 'BEGIN { n = split(ports, p, " ") }
		$1 ~ /^(port|api_port|http_port)$/ && $3 != 0 { $3 = p[++i] } { print }' \
		"$d4/node.conf" >"$d4/node.conf.new" && mv "$d4/node.conf.new" "$d4/node.conf"
	export D4=$d4 P4
	P4=$(conf_port "$d4")
	start_node "$d4"
	SITE=$d4 SHARE=$s4 check_consistency
	entities_of 1 | sort >"$BATS_TEST_TMPDIR/source"
	entities_of 4 | sort >"$BATS_TEST_TMPDIR/restored"
	# nothing that the source does not hold, as it holds it...
	[ -z "$(comm -13 "$BATS_TEST_TMPDIR/source" "$BATS_TEST_TMPDIR/restored")" ]
	# ...every upload and tag acknowledged before the backup began...
	while read -r _ name; do
		grep -q "\"name\":\"$name\"" "$BATS_TEST_TMPDIR/restored" || { echo "upload $name is missing" >&2; false; }
	done <"$BATS_TEST_TMPDIR/uploads.before"
	while read -r _ name; do
		grep -q "\"tag\":\"[^\"]*\",\"name\":\"$name\"" "$BATS_TEST_TMPDIR/restored" || { echo "tag $name is missing" >&2; false; }
	done <"$BATS_TEST_TMPDIR/writes.before"
	# ...and each reloaded app with a whole file of its own (check_consistency: the size
	# and SHA-256 its row names) that opens
	for a in "${apps[@]}"; do
		grep -q "\"app\":\"$a\"" "$BATS_TEST_TMPDIR/restored"
		[ "$(node "$BATS_TEST_DIRNAME/wire.js" answer "$(conf_port "$d4" engine)" "$d4/certs" "$a" \
			OpenDoc "[\"$a\"]" | jq -r '.result.qReturn.qType // .error.message')" = Doc ]
	done
	# the same count of apps as the manifest, which named each file with its hash
	s=$(on 4 GET /qrs/app/count); expect 200 "$s"
	[ "$(jqb .value)" = "$(jq '.apps | length' "$b/manifest.json")" ]
	stop_node "$d4"
}
