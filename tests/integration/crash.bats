#!/usr/bin/env bats
# A node killed with SIGKILL at any moment of an upload, a copy or a replace restarts with
# no orphan row, no partial file, and the previous content intact. Named crash points
# (FATHOM_CRASH_POINT) kill the node at each step of writing a file; a second test kills
# it at random moments.

load helpers

setup_file() { if on_postgres; then pg_up; fi; }
teardown_file() { if on_postgres; then pg_down; fi; }

setup() {
	export SITE=$BATS_TEST_TMPDIR/site SHARE=$BATS_TEST_TMPDIR/share PORT
	PORT=$(free_port)
	export BASE=https://localhost:$PORT
	if on_postgres; then
		pg_new_db "crash$BATS_TEST_NUMBER"
		make_site "$SITE" "$SHARE" "$PORT" --db "$DB_URL"
	else
		make_site "$SITE" "$SHARE" "$PORT"
	fi
	start_node "$SITE"
	app_file "$BATS_TEST_TMPDIR/a.qvf" 3000000
	app_file "$BATS_TEST_TMPDIR/b.qvf" 5000
}

teardown() { stop_node "$SITE" || true; }

POINTS="share-writing share-journaled share-renamed app-committed"

# crash_during POINT CMD...: restarts the node armed at POINT, runs CMD (which the crash
# cuts off), waits for the node to die, and restarts it unarmed.
crash_during() {
	local point=$1
	shift
	stop_node "$SITE"
	FATHOM_CRASH_POINT=$point start_node "$SITE"
	"$@" >/dev/null || true
	local pid
	pid=$(cat "$SITE/pid")
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "the node did not reach crash point $point" >&2
		return 1
	fi
	wait "$pid" 2>/dev/null || true
	rm -f "$SITE/pid"
	start_node "$SITE"
}

# adds_one_app_or_nothing OP: crashes OP (a function given the point's name) at every
# point; after the commit the app is there, before it there is no trace of it.
adds_one_app_or_nothing() {
	local op=$1 p before
	for p in $POINTS; do
		before=$(rows app)
		crash_during "$p" "$op" "$p"
		check_consistency
		if [ "$p" = app-committed ]; then
			[ "$(rows app)" = $((before + 1)) ]
		else
			[ "$(rows app)" = "$before" ]
		fi
	done
}

@test "upload: a crash at any step leaves either nothing or the whole app" {
	op() { upload "Crash-$1" "$BATS_TEST_TMPDIR/a.qvf"; }
	adds_one_app_or_nothing op
}

@test "copy: a crash at any step leaves either nothing or the whole copy" {
		s=$(upload Source "$BATS_TEST_TMPDIR/a.qvf"); expect 201 "$s"; src=$(jqb .id)
	op() { api POST "/qrs/app/$src/copy?name=Copy-$1"; }
	adds_one_app_or_nothing op
}

@test "replace: a crash at any step keeps the old content or installs the new, whole" {
	s=$(upload Target "$BATS_TEST_TMPDIR/a.qvf"); expect 201 "$s"; tid=$(jqb .id)
	s=$(upload Donor "$BATS_TEST_TMPDIR/b.qvf"); expect 201 "$s"; did=$(jqb .id)
	old_sha=$(sha256sum "$BATS_TEST_TMPDIR/a.qvf" | cut -d' ' -f1)
	new_sha=$(sha256sum "$BATS_TEST_TMPDIR/b.qvf" | cut -d' ' -f1)
	for p in $POINTS; do
		crash_during "$p" api PUT "/qrs/app/$did/replace?app=$tid"
		check_consistency
		sha=$(sql "SELECT file_sha256 FROM app WHERE id = '$tid'")
		if [ "$p" = app-committed ]; then [ "$sha" = "$new_sha" ]; else [ "$sha" = "$old_sha" ]; fi
	done
}

@test "kill -9 at random moments of uploads, copies and replaces" {
	app_file "$BATS_TEST_TMPDIR/big.qvf" 30000000
	s=$(upload Seed "$BATS_TEST_TMPDIR/big.qvf"); expect 201 "$s"; seed=$(jqb .id)
	for i in $(seq 1 6); do
		( upload "R$i" "$BATS_TEST_TMPDIR/big.qvf" >/dev/null || true ) &
		( api POST "/qrs/app/$seed/copy?name=C$i" >/dev/null || true ) &
		( api PUT "/qrs/app/$seed/replace?app=$(sql "SELECT id FROM app LIMIT 1")" >/dev/null || true ) &
		sleep "0.0$((RANDOM % 10))"
		kill9_node "$SITE"
		wait || true
		start_node "$SITE"
		check_consistency
	done
}

# A scheduled reload (one retry) whose reload worker dies after loading its data
# (worker-loaded) or after writing its result (worker-written), or whose node dies right
# after the transaction that stores the new generation (app-committed), each once: the
# execution ends exactly once, the app has one whole new generation, and nothing is left
# in the share, the journal or the node's folder.
@test "a scheduled reload killed at each named step ends once, with one whole new generation" {
	stop_node "$SITE"
	# short execution leases, so that the dead node's execution comes back quickly
	printf '\n[scheduler]\nexecution_lease_s = 8\n' >>"$SITE/node.conf"
	start_node "$SITE"
	printf 'U: LOAD RecNo() AS N AUTOGENERATE 1000;\n' >"$BATS_TEST_TMPDIR/r.qvs"
	for p in worker-loaded worker-written app-committed; do
		"$FATHOM" app create "R-$p" --dir "$SITE" --script "$BATS_TEST_TMPDIR/r.qvs" >/dev/null
		app=$(sql "SELECT id FROM app WHERE name = 'R-$p'")
		gen0=$(sql "SELECT generation FROM app WHERE id = '$app'")
		s=$(json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"R-$p\",\"app\":{\"id\":\"$app\"},\"maxRetries\":1}}")
		expect 201 "$s"
		task=$(jqb .id)
		stop_node "$SITE"
		FATHOM_CRASH_POINT=$p FATHOM_CRASH_ONCE=$BATS_TEST_TMPDIR/crashed-$p start_node "$SITE"
		# (at app-committed the node dies before it answers)
		api POST "/qrs/task/$task/start/synchronous" >/dev/null || true
		sid=$(sql "SELECT id FROM executionsession WHERE reload_task_id = '$task' UNION SELECT execution_id FROM executionresult WHERE task_id = '$task'")
		[ -n "$sid" ]
		for _ in $(seq 1 240); do
			# the node that killed itself comes back (unarmed: the point fires once anyway)
			if ! kill -0 "$(cat "$SITE/pid")" 2>/dev/null; then
				rm -f "$SITE/pid"
				start_node "$SITE"
			fi
			[ "$(sql "SELECT count(*) FROM executionresult WHERE execution_id = '$sid' AND status = 7")" = 1 ] && break
			sleep 0.25
		done
		[ -f "$BATS_TEST_TMPDIR/crashed-$p" ] # the point was reached
		statuses=$(sql "SELECT status FROM executionresult WHERE execution_id = '$sid' ORDER BY start_time")
		echo "$p: attempts ended $(echo $statuses)" >&2
		if [ "$p" = app-committed ]; then
			# stored before the node died: finished, not run again
			[ "$statuses" = 7 ]
		else
			# the killed attempt, then the retry
			[ "$statuses" = "$(printf '8\n7')" ]
		fi
		# the execution is over (its queue row gone), and stays so
		[ "$(sql "SELECT count(*) FROM executionsession WHERE id = '$sid'")" = 0 ]
		[ "$(sql "SELECT generation FROM app WHERE id = '$app'")" != "$gen0" ]
		check_consistency
		# the worker's result and its temporaries went with the attempt (or at the restart)
		[ -z "$(find "$SITE" -maxdepth 1 -name 'reload-*')" ] ||
			{ ls -la "$SITE" >&2; false; }
	done
}
