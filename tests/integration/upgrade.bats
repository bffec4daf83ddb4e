#!/usr/bin/env bats
# A rolling upgrade, as docs/admin.md "Upgrade" tells an administrator to do it: a
# three-node site on PostgreSQL made and run by the previous release (built here from the
# commit $FATHOM_UPGRADE_FROM of this repository's history), upgraded to this build one
# node at a time while the other nodes take writes and reloads. Nothing written is lost,
# every entity keeps its id, an app reloaded by a new node opens on an old one, and a node
# of the old release that starts again refuses the newer schema.

load helpers

# The previous release: the last commit on repository schema 10 (e1979d7, 2026-12-06;
# schema 11 adds what each node started with and its share probe's state).
OLD_COMMIT=${FATHOM_UPGRADE_FROM:-e1979d7}

# old_fathom: builds the previous release's `fathom` (a debug build of that one target, a
# few seconds) once per build folder, beside $FATHOM; prints its path.
old_fathom() {
	local top out
	top=$(git -C "$BATS_TEST_DIRNAME" rev-parse --show-toplevel 2>/dev/null) || return 2
	git -C "$top" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null || return 2
	out=$(dirname "$FATHOM")/upgrade-from-$OLD_COMMIT
	(
		flock 9
		[ -x "$out/b/fathom" ] && exit 0
		rm -rf "$out" && mkdir -p "$out/src"
		git -C "$top" archive "$OLD_COMMIT" | tar -x -C "$out/src" &&
			cmake -S "$out/src" -B "$out/b" -DCMAKE_BUILD_TYPE=Debug >"$out/build.log" 2>&1 &&
			cmake --build "$out/b" -j "$(nproc)" --target fathom >>"$out/build.log" 2>&1 ||
			{ tail -n 30 "$out/build.log" >&2; exit 1; }
	) 9>"$out.lock" || return 1
	echo "$out/b/fathom"
}

setup_file() {
	# the default app file layout: a small app that a new node reloads stays readable by
	# an old one (make check stores every table in column layout, version 4)
	unset FATHOM_COLUMN_TABLES_MIN_ROWS
	local rc=0
	OLD=$(old_fathom) || rc=$?
	if [ "$rc" = 2 ]; then
		skip "the previous release ($OLD_COMMIT) is not in this clone's history (a shallow clone?)"
	fi
	[ "$rc" = 0 ]
	export OLD
	FATHOM=$OLD three_nodes_up
}

teardown() {
	touch "$BATS_TEST_TMPDIR/stop" # (the writers of a test that failed midway)
}

teardown_file() { three_nodes_down; }

# ids N TYPE: "id name" lines of every TYPE entity, sorted, as node N lists them
ids() {
	on "$1" GET "/qrs/$2" >/dev/null
	jqb -r '.[] | "\(.id) \(.name // .userId)"' | sort
}

schema_version() { pg_sql fathom "SELECT max(version) FROM schema_version"; }

# opens_on N APP: opens APP on node N's engine; prints the type of what OpenDoc gave
opens_on() {
	local d=D$1
	node "$BATS_TEST_DIRNAME/wire.js" answer "$(conf_port "${!d}" engine)" "${!d}/certs" "$2" \
		OpenDoc "[\"$2\"]" | jq -r '.result.qReturn.qType // .error.message'
}

@test "a three-node site of the previous release is upgraded one node at a time while it serves" {
	[ "$(schema_version)" = 10 ]
	# what the site holds before: a stream, tags, a user, an app reloaded with data, a task
	s=$(json_on 1 POST /qrs/stream '{"name":"Sales"}'); expect 201 "$s"
	for t in red green blue; do s=$(json_on 2 POST /qrs/tag "{\"name\":\"$t\"}"); expect 201 "$s"; done
	printf 'old password\n' | "$OLD" user add olduser --dir "$D1" --role RootAdmin >/dev/null
	mkdir -p "$SH/CustomData"
	printf 'Region,Amount\nNorth,10\nSouth,20\nEast,5\n' >"$SH/CustomData/sales.csv"
	printf "S: LOAD Region, Amount FROM [lib://CustomData/sales.csv]\n  (txt, utf8, embedded labels, delimiter is ',');\n" \
		>"$BATS_TEST_TMPDIR/s.qvs"
	"$OLD" app create Sales --dir "$D1" --script "$BATS_TEST_TMPDIR/s.qvs" >/dev/null
	s=$(on 1 GET "/qrs/app?filter=name%20eq%20'Sales'"); expect 200 "$s"
	app=$(jqb '.[0].id')
	s=$(on 3 POST "/qrs/app/$app/reload"); expect 204 "$s"
	s=$(json_on 1 POST /qrs/reloadtask "{\"name\":\"nightly\",\"app\":{\"id\":\"$app\"}}"); expect 201 "$s"
	for t in stream tag user app reloadtask; do ids 1 "$t" >"$BATS_TEST_TMPDIR/before.$t"; done
	[ "$(wc -l <"$BATS_TEST_TMPDIR/before.app")" = 1 ]

	# node3, node2, node1 in turn: stop it, start this build in its folder; meanwhile
	# every other node takes writes, and none may fail
	local n others o writers
	for n in 3 2 1; do
		others=$(printf '%s\n' 1 2 3 | grep -v "^$n$" | tr '\n' ' ')
		rm -f "$BATS_TEST_TMPDIR/stop"
		writers=()
		for o in $others; do
			local dir=D$o port=P$o
			writer "${!dir}" "${!port}" tag "up$n-from$o" &
			writers+=($!)
		done
		sleep 1
		local dn=D$n
		stop_node "${!dn}"
		start_node "${!dn}"
		sleep 1
		touch "$BATS_TEST_TMPDIR/stop"
		wait "${writers[@]}"
		for o in $others; do
			f=$BATS_TEST_TMPDIR/writes.up$n-from$o
			[ "$(wc -l <"$f")" -gt 3 ]
			if grep -v '^201 ' "$f"; then
				echo "a write to node$o failed while node$n was upgraded" >&2
				return 1
			fi
		done
		[ "$(schema_version)" = 11 ]
		# every node, old or new, is seen running by the upgraded one
		s=$(on "$n" GET /qrs/servicestatus); expect 200 "$s"
		[ "$(jqb '[.[].serviceState] | join(",")')" = "2,2,2" ]
		if [ "$n" = 3 ]; then
			# mixed releases: an old node and a new one reload the app, and what the new
			# one wrote opens on the old one's engine
			s=$(on 1 POST "/qrs/app/$app/reload"); expect 204 "$s"
			s=$(on 3 POST "/qrs/app/$app/reload"); expect 204 "$s"
			[ "$(opens_on 2 "$app")" = Doc ]
			[ "$(opens_on 3 "$app")" = Doc ]
		fi
	done

	# everything from before is there with its id; every acknowledged write is there once
	for t in stream user app reloadtask; do
		diff "$BATS_TEST_TMPDIR/before.$t" <(ids 2 "$t")
	done
	ids 3 tag >"$BATS_TEST_TMPDIR/after.tag"
	grep -Ff "$BATS_TEST_TMPDIR/before.tag" -x "$BATS_TEST_TMPDIR/after.tag" | cmp - "$BATS_TEST_TMPDIR/before.tag"
	written=$(cat "$BATS_TEST_TMPDIR"/writes.* | grep -c '^201 ')
	[ "$(grep -c ' up' "$BATS_TEST_TMPDIR/after.tag")" = "$written" ]
	[ "$(pg_sql fathom "SELECT count(DISTINCT name) FROM tag WHERE name LIKE 'up%'")" = "$written" ]
	# the reloaded app reloads and opens on the new release, with its data
	s=$(on 1 POST "/qrs/app/$app/reload"); expect 204 "$s"
	[ "$(opens_on 1 "$app")" = Doc ]
	s=$(on 1 GET "/qrs/app/$app/reload/log"); expect 200 "$s"
	grep -q 'S << 3 rows' "$(BODY_FILE)"
	# the central role is held by one node, and the task is still there to run
	s=$(on 2 GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb '[.[] | select(.isCentral)] | length')" = 1 ]
	s=$(on 2 POST "/qrs/task/$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/before.reloadtask")/start/synchronous"); expect 201 "$s"
}

@test "a node of the previous release that starts again refuses the upgraded schema and changes nothing" {
	stop_node "$D3"
	run "$OLD" run --dir "$D3" $(root_flag)
	[ "$status" -eq 1 ]
	[[ "$output" == *"schema version 11, newer than this fathom (10)"* ]]
	[ "$(schema_version)" = 11 ]
	start_node "$D3"
	s=$(on 3 GET /qrs/about); expect 200 "$s"
}
