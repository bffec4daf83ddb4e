#!/usr/bin/env bats
# A site on an existing PostgreSQL database (fathom site create --db): it works, and a bad
# connection is reported plainly with nothing created.

load helpers

setup_file() { pg_up; }
teardown_file() { pg_down; }

setup() { node_vars; }
teardown() { stop_node_if_running; }

create_fails_plainly() {
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --db "$1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot connect to the repository database: "*"$2"* ]]
	[ ! -e "$D" ]
	[ ! -e "$S" ]
}

@test "a wrong password is reported and nothing is created" {
	create_fails_plainly "postgresql://fathom:wrong@127.0.0.1:$PGPORT/fathom" \
		'password authentication failed for user "fathom"'
}

@test "a missing database is reported and nothing is created" {
	create_fails_plainly "postgresql://fathom:secret@127.0.0.1:$PGPORT/nosuchdb" \
		'database "nosuchdb" does not exist'
}

@test "a missing role is reported and nothing is created" {
	create_fails_plainly "postgresql://nobody:secret@127.0.0.1:$PGPORT/fathom" '"nobody"'
}

@test "an unreachable host is reported and nothing is created" {
	create_fails_plainly "postgresql://fathom:secret@127.0.0.1:$(free_port)/fathom?connect_timeout=3" \
		"Connection refused"
}

@test "a site on PostgreSQL: schema, first rows, a running node" {
	pg_new_db site1
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--db "$DB_URL"
	[ "$status" -eq 0 ]
	grep -q '^driver = postgres$' "$D/node.conf"
	[ ! -e "$D/repository.db" ]
	[ "$(pg_sql site1 'SELECT version FROM schema_version')" = 11 ]
	[ "$(pg_sql site1 'SELECT count(*) FROM servernodeconfiguration WHERE is_central = 1')" = 1 ]
	SITE=$D start_node "$D"
	SITE=$D BASE=https://localhost:$P
	s=$(SITE=$D BASE=https://localhost:$P api GET /qrs/about); expect 200 "$s"
	[ "$(jqb .databaseProvider)" = PostgreSQL ]
	stop_node "$D"
}

@test "a database that already holds a site is refused and nothing changes" {
	pg_new_db site2
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --db "$DB_URL" >/dev/null
	before=$(pg_sql site2 'SELECT count(*) FROM change_log')
	run "$FATHOM" site create --dir "$D.2" --share "$S.2" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --db "$DB_URL"
	[ "$status" -eq 1 ]; [[ "$output" == *"already holds a Fathom site"* ]]
	[ ! -e "$D.2" ]
	[ "$(pg_sql site2 'SELECT count(*) FROM change_log')" = "$before" ]
}

@test "run explains a database it cannot reach" {
	pg_new_db site3
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --db "$DB_URL" >/dev/null
		echo wrong | "$FATHOM" secret set --dir "$D"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *'password authentication failed for user "fathom"'* ]]
}

@test "the database goes away: the node stays up, answers 503 with Retry-After, and recovers" {
	pg_new_db outage
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--db "$DB_URL" >/dev/null
	SITE=$D start_node "$D"
	export SITE=$D BASE=https://localhost:$P
	s=$(json POST /qrs/tag '{"name":"before"}'); expect 201 "$s"
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null
	s=$(api GET /qrs/tag -D "$BATS_TEST_TMPDIR/headers"); expect 503 "$s"
	grep -qi '^Retry-After: ' "$BATS_TEST_TMPDIR/headers"
	[[ "$(jqb .message)" == *unreachable* ]]
	s=$(json POST /qrs/tag '{"name":"during"}'); expect 503 "$s"
	kill -0 "$(cat "$D/pid")"
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
	# Concurrent requests reach every pooled connection, each of which died meanwhile.
	pids=()
	for i in $(seq 1 12); do
		( curl -s -o /dev/null -w '%{http_code}\n' --cacert "$D/certs/root.pem" \
			--cert "$D/certs/client.pem" --key "$D/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
			"$BASE/qrs/tag/count?xrfkey=$XRF" >"$BATS_TEST_TMPDIR/after.$i" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	[ "$(cat "$BATS_TEST_TMPDIR"/after.* | grep -c '^200$')" = 12 ]
	s=$(json POST /qrs/tag '{"name":"after"}'); expect 201 "$s"
	[ "$(pg_sql outage "SELECT count(*) FROM tag WHERE name = 'during'")" = 0 ]
	stop_node "$D"
}

@test "the database password is sealed in node.conf and managed with fathom secret" {
	pg_new_db sealed
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--db "$DB_URL" >/dev/null
	[ "$(grep -c secret "$D/node.conf")" = 0 ]
	grep -q '^password = sbox:' "$D/node.conf"
	grep -q "^conninfo = .*dbname='sealed'" "$D/node.conf"
	[ "$(stat -c %a "$D/secret.key")" = 600 ]
	run "$FATHOM" secret show --dir "$D"
	[ "$status" -eq 0 ]; [ "$output" = secret ]
	# A wrong password set through the CLI stops the node from starting; the right one fixes it.
	echo wrong | "$FATHOM" secret set --dir "$D"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"password authentication failed"* ]]
	echo secret | "$FATHOM" secret set --dir "$D"
	SITE=$D start_node "$D"
	stop_node "$D"
	# A key that did not seal the password is refused, saying so.
	cp "$D/secret.key" "$BATS_TEST_TMPDIR/key.bak"
	rm "$D/secret.key"
	
	head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 64 >"$D/secret.key"
	chmod 600 "$D/secret.key"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *"sealed with another key"* ]]
	run "$FATHOM" secret show --dir "$D"
	[ "$status" -eq 1 ]; [ "$(grep -cx secret <<<"$output")" = 0 ]
	cp "$BATS_TEST_TMPDIR/key.bak" "$D/secret.key"
}

@test "without access to the key, fathom secret refuses and shows nothing" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to another user"
		pg_new_db nokey
	# A folder another user can reach: only the key (0600) stays out of reach.
	local top
	top=$(mktemp -d /tmp/fathom-nokey-XXXXXX)
	chmod 755 "$top"
	"$FATHOM" site create --dir "$top/site" --share "$top/share" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--db "$DB_URL" >/dev/null
	chmod 755 "$top/site"
	chmod 644 "$top/site/node.conf"
	# the binary too: the clone may be in a folder only its owner can enter (mktemp -d)
	install -m 755 "$FATHOM" "$top/fathom"
	run bash -c "cd '$top' && runuser -u nobody -- '$top/fathom' secret show --dir '$top/site'"
	rm -rf "$top"
	[ "$status" -eq 1 ]; [[ "$output" == *"cannot read key file"* ]]
	[ "$(grep -cx secret <<<"$output")" = 0 ]
}

@test "config show and set: new settings are checked before they are saved" {
	pg_new_db conf1
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--db "$DB_URL" >/dev/null
	run "$FATHOM" config show --dir "$D"
	[ "$status" -eq 0 ]
	[[ "$output" == *"dbname='conf1'"* ]]; [[ "$output" == *"(sealed"* ]]
	[[ "$output" != *"'secret'"* ]]; [[ "$output" != *"= secret"* ]]
	[[ "$output" == *"share.apps = $S/Apps"* ]]
	before=$(sha256sum "$D/node.conf")
	run "$FATHOM" config set --dir "$D" database.dbname=nosuchdb
	[ "$status" -eq 1 ]; [[ "$output" == *'database "nosuchdb" does not exist'* ]]
	[[ "$output" == *"node.conf was not changed"* ]]
	run "$FATHOM" config set --dir "$D" database.port=1
	[ "$status" -eq 1 ]; [[ "$output" == *"Connection refused"* ]]
	run "$FATHOM" config set --dir "$D" database.sslmode=require
	[ "$status" -eq 1 ]; [[ "$output" == *"SSL"* ]]
	pg_sql postgres "CREATE DATABASE emptydb OWNER fathom" >/dev/null
	run "$FATHOM" config set --dir "$D" database.dbname=emptydb
	[ "$status" -eq 1 ]; [[ "$output" == *"holds no Fathom site"* ]]
	run "$FATHOM" config set --dir "$D" share.apps=/nonexistent/apps
	[ "$status" -eq 1 ]; [[ "$output" == *'"/nonexistent/apps" is not a writable folder'* ]]
	run "$FATHOM" config set --dir "$D" database.password=x
	[ "$status" -eq 1 ]; [[ "$output" == *"fathom secret set"* ]]
	run "$FATHOM" config set --dir "$D" database.frobnicate=1
	[ "$status" -eq 1 ]
	[ "$(sha256sum "$D/node.conf")" = "$before" ]
	# A good change is saved and the node runs with it.
	mkdir -p "$BATS_TEST_TMPDIR/apps2"
	run "$FATHOM" config set --dir "$D" share.apps="$BATS_TEST_TMPDIR/apps2" database.host=localhost
	[ "$status" -eq 0 ]
	grep -q "^apps = $BATS_TEST_TMPDIR/apps2$" "$D/node.conf"
	grep -q "host='localhost'" "$D/node.conf"
	SITE=$D start_node "$D"
	app_file "$BATS_TEST_TMPDIR/moved.fapp" 1000
	s=$(SITE=$D BASE=https://localhost:$P api POST "/qrs/app/upload?name=moved" --data-binary @"$BATS_TEST_TMPDIR/moved.fapp")
	expect 201 "$s"
	[ "$(ls "$BATS_TEST_TMPDIR/apps2" | wc -l)" = 1 ]
	stop_node "$D"
}

@test "run refuses a database without Fathom's schema, and a node the repository does not know, changing nothing" {
	pg_new_db site9
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --db "$DB_URL" >/dev/null
	cp "$D/node.conf" "$BATS_TEST_TMPDIR/node.conf.bak"
	pg_sql postgres "CREATE DATABASE empty9 OWNER fathom" >/dev/null
	sed -i "s/dbname='site9'/dbname='empty9'/" "$D/node.conf"
	grep -q "dbname='empty9'" "$D/node.conf"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]
	[[ "$output" == *"holds no Fathom site"* ]]
	[ "$(pg_sql empty9 "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
	cp "$BATS_TEST_TMPDIR/node.conf.bak" "$D/node.conf"
	sed -i 's/^id = .*/id = 6baa5c73-af76-48c8-a5e8-c185c86a885c/' "$D/node.conf"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not in the site's repository"* ]]
	[ "$(pg_sql site9 "SELECT count(*) FROM node_heartbeat")" = 0 ]
}

# entities_of: the site's apps (with their files' sizes), streams and users, by id.
entities_of() {
	api GET /qrs/app/full >/dev/null
	jqb -c '[.[] | {id, name, stream: .stream.name, size: .fileSize}] | sort_by(.id)'
	api GET /qrs/stream >/dev/null
	jqb -c '[.[] | {id, name}] | sort_by(.id)'
	api GET /qrs/user >/dev/null
	jqb -c '[.[] | {id, userId}] | sort_by(.id)'
}

@test "migrate moves a SQLite site to PostgreSQL and a new share, refuses what it must, and runs again after a crash" {
	export SITE=$D BASE=https://localhost:$P
	make_site "$D" "$S" "$P"
	start_node "$D"
	id=$(new_app Sales 'T: LOAD * INLINE [\nRegion, Amount\nNorth, 5\n];')
	expect 201 "$(json POST /qrs/stream '{"name":"Finance"}')"
	api POST "/qrs/app/$id/reload" >/dev/null
	printf 'reader password\n' | "$FATHOM" user add reader --dir "$D" >/dev/null
	mkdir -p "$S/CustomData/sales"; printf 'Region\nNorth\n' >"$S/CustomData/sales/r.csv"
	entities_of >"$BATS_TEST_TMPDIR/before"
	pg_new_db mig1
	local S2=$BATS_TEST_TMPDIR/share2
	# refused while the node runs, and nothing made
	run "$FATHOM" migrate --dir "$D" --to-db "$DB_URL" --to-share "$S2"
	[ "$status" -eq 1 ]; [[ "$output" == *"is running"* ]]
	[ ! -e "$S2" ]
	[ "$(pg_sql mig1 "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ]
	stop_node "$D"
	# stopped after the files, and again after the rows went in: the site is as it was
	for point in migrate-share migrate-rows; do
		run env FATHOM_CRASH_POINT=$point "$FATHOM" migrate --dir "$D" --to-db "$DB_URL" --to-share "$S2" --quiet
		[ "$status" -ne 0 ]
		grep -q '^driver = sqlite$' "$D/node.conf"
	done
	[ "$(pg_sql mig1 'SELECT count(*) FROM app')" = 1 ] # the rows were in when it stopped
	# and it runs again to the end
	run "$FATHOM" migrate --dir "$D" --to-db "$DB_URL" --to-share "$S2"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"runs on PostgreSQL now"* ]]
	grep -q '^driver = postgres$' "$D/node.conf"
	grep -q "^root = $S2$" "$D/node.conf"
	! grep -q secret "$D/node.conf" || false # the password is sealed
	[ -f "$D/repository.db" ] # the old repository stays, unused
	[ ! -e "$S2/.fathom-migrating" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep fathom-migrate || true)" ]
	cmp "$S/CustomData/sales/r.csv" "$S2/CustomData/sales/r.csv"
	# the site runs from PostgreSQL and the new share: the same apps, streams and users
	start_node "$D"
	entities_of >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	[ "$(ls "$S2/Apps" | wc -l)" -ge 1 ]
	expect 200 "$(api GET /qrs/about)"
	[ "$(jqb .databaseProvider)" = PostgreSQL ]
	expect 204 "$(api POST "/qrs/app/$id/reload")"
	expect 200 "$(api GET /qrs/servicecluster/full)"
	[ "$(jqb -r '.[0].settings.sharedPersistenceProperties.appFolder')" = "$S2/Apps" ]
	[ "$(pg_sql mig1 "SELECT connectionstring FROM dataconnection WHERE name = 'CustomData'")" = "$S2/CustomData" ]
	stop_node "$D"
	# a node on PostgreSQL already, and another site into this database, are refused
	run "$FATHOM" migrate --dir "$D" --to-db "$DB_URL"
	[ "$status" -eq 1 ]; [[ "$output" == *"on PostgreSQL already"* ]]
	local D3=$BATS_TEST_TMPDIR/site3
	make_site "$D3" "$BATS_TEST_TMPDIR/share3" "$(free_port)"
	run "$FATHOM" migrate --dir "$D3" --to-db "$DB_URL"
	[ "$status" -eq 1 ]; [[ "$output" == *"holds a Fathom site already"* ]]
	grep -q '^driver = sqlite$' "$D3/node.conf"
}
