#!/usr/bin/env bats
# A site that owns its PostgreSQL 15 instance (`site create --local-db`): the instance is
# made, started and used; `fathom db start|stop|status` manage it; `fathom run` starts it
# when it is down; a second node joins it; a failed create leaves nothing behind.

load helpers

# PostgreSQL runs as the postgres user when the tests run as root: the node folders live
# where that user can reach them (bats's own temporary folders are closed to others).
setup_file() {
	export TOP
	TOP=$(mktemp -d /tmp/fathom-localdb-XXXXXX)
	chmod 755 "$TOP"
	export D=$TOP/n1 SH=$TOP/share P LP
	P=$(free_port)
	LP=$(free_port)
}

teardown_file() {
	for d in "$TOP/n2" "$D"; do
		[ -f "$d/pid" ] && stop_node "$d" || true
	done
	[ -d "$D/pgdata" ] && "$FATHOM" db stop --dir "$D" >/dev/null 2>&1 || true
	[ -d "$TOP/standby/pgdata" ] && "$FATHOM" db stop --dir "$TOP/standby" >/dev/null 2>&1 || true
	rm -rf "$TOP"
}

@test "site create --local-db makes, starts and uses the site's own PostgreSQL" {
	run "$FATHOM" site create --dir "$D" --share "$SH" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--name n1 --local-db --local-db-port "$LP"
	[ "$status" -eq 0 ]
	[[ "$output" == *"PostgreSQL 15 runs on port $LP"* ]]
	[[ "$output" == *"other nodes join with"* ]]
	grep -q '^driver = postgres$' "$D/node.conf"
	grep -q "port='$LP'" "$D/node.conf"
	# The password is sealed, never in clear.
	pw=$("$FATHOM" secret show --dir "$D")
	[ ${#pw} -ge 24 ]
	[ "$(grep -c "$pw" "$D/node.conf")" = 0 ]
	[ "$(stat -c %a "$D/pgdata")" = 700 ]
	run "$FATHOM" db status --dir "$D"
	[ "$status" -eq 0 ]
	[[ "$output" == *running* ]]
	# The role works over TCP with the password, and holds the site's schema.
	[ "$(PGPASSWORD=$pw "$PGBIN/psql" -h 127.0.0.1 -p "$LP" -U fathom -d fathom -tA -c 'SELECT version FROM schema_version')" = 11 ]
	# A wrong password is refused over TCP.
	run env PGPASSWORD=wrong "$PGBIN/psql" -h 127.0.0.1 -p "$LP" -U fathom -d fathom -tA -c 'SELECT 1'
	[ "$status" -ne 0 ]
}

@test "db stop, status and start; run starts the database when it is down" {
	run "$FATHOM" db stop --dir "$D"
	[ "$status" -eq 0 ]
	run "$FATHOM" db status --dir "$D"
	[ "$status" -eq 3 ]
	[[ "$output" == *stopped* ]]
	run "$FATHOM" db stop --dir "$D"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already stopped"* ]]
	SITE=$D start_node "$D"
	grep -q "starting the site's PostgreSQL" "$D/stderr.log"
	run "$FATHOM" db status --dir "$D"
	[ "$status" -eq 0 ]
	s=$(SITE=$D BASE=https://localhost:$P api GET /qrs/about); expect 200 "$s"
	[ "$(jqb .databaseProvider)" = PostgreSQL ]
	run "$FATHOM" db start --dir "$D"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already running"* ]]
}

@test "a second node joins the site's own database" {
	pw=$("$FATHOM" secret show --dir "$D")
	export DB_URL="postgresql://fathom:$pw@127.0.0.1:$LP/fathom"
	D2=$TOP/n2
	P2=$(free_port)
	join_node "$D2" "$P2" n2 "$D"
	start_node "$D2"
	s=$(SITE=$D2 BASE=https://localhost:$P2 api GET /qrs/servernodeconfiguration); expect 200 "$s"
	[ "$(jqb '[.[].name] | sort | join(",")')" = "n1,n2" ]
	stop_node "$D2"
}

@test "db explains a folder without a database of its own, and bad arguments" {
	run "$FATHOM" db status --dir "$BATS_TEST_TMPDIR"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no site database of its own"* ]]
	run "$FATHOM" db restart --dir "$D"
	[ "$status" -eq 2 ]
	run "$FATHOM" db --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: fathom db"* ]]
}

@test "a failed --local-db create (port taken) leaves nothing behind" {
	d=$TOP/n3
	run "$FATHOM" site create --dir "$d" --share "$TOP/share3" --repository-port "$(free_port)" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--hostname localhost --name n3 --local-db --local-db-port "$LP"
	[ "$status" -eq 1 ]
	[[ "$output" == *"pg_ctl start failed"* ]]
	[[ "$output" == *"nothing was created"* ]]
	[ ! -e "$d" ]
	[ ! -e "$TOP/share3" ]
	run "$FATHOM" site create --dir "$d" --share "$BATS_TEST_TMPDIR/share3" --local-db --db "$DB_URL"
	[ "$status" -eq 2 ]
}

@test "root: a node folder the postgres user cannot reach is refused before anything is made" {
	[ "$(id -u)" -eq 0 ] || skip "only root hands PostgreSQL to another user"
	closed=$TOP/closed
	mkdir -m 700 "$closed"
	run "$FATHOM" site create --dir "$closed/n4" --share "$TOP/share4" --local-db \
		--local-db-port "$(free_port)" --hostname localhost
	[ "$status" -eq 1 ]
	[[ "$output" == *"who cannot reach"* ]]
	[ ! -e "$closed/n4" ]
	[ ! -e "$TOP/share4" ]
}

# psql_at PORT SQL: one value, as the site's role with its password.
psql_at() {
	PGPASSWORD=$("$FATHOM" secret show --dir "$D") "$PGBIN/psql" -h 127.0.0.1 -p "$1" -U fathom -d fathom -tA -c "$2"
}

@test "db standby streams the site's database, refuses writes until db promote makes it the primary" {
	"$FATHOM" db start --dir "$D" >/dev/null
	local sb=$TOP/standby SP pw
	SP=$(free_port)
	pw=$("$FATHOM" secret show --dir "$D")
	run "$FATHOM" db standby --dir "$sb" --primary "postgresql://fathom:$pw@127.0.0.1:$LP/fathom" --port "$SP" --name "test standby"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"runs on port $SP"*"through slot fathom_test_standby"* ]]
	# the password is in the standby's passfile only, closed to others
	[ "$(stat -c %a "$sb/standby.pgpass")" = 600 ]
	[ "$(grep -c "$pw" "$sb/pgdata/postgresql.auto.conf")" = 0 ]
	[ -f "$sb/pgdata/standby.signal" ]
	# the primary streams to it through its slot; a write there reaches the standby
	[ "$(psql_at "$LP" "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'fathom_test_standby'")" = 1 ]
	[ "$(psql_at "$LP" "SELECT active FROM pg_replication_slots WHERE slot_name = 'fathom_test_standby'")" = t ]
	psql_at "$LP" "CREATE TABLE standby_probe (x int); INSERT INTO standby_probe VALUES (42)" >/dev/null
	for _ in $(seq 1 100); do [ "$(psql_at "$SP" 'SELECT x FROM standby_probe' 2>/dev/null)" = 42 ] && break; sleep 0.1; done
	[ "$(psql_at "$SP" 'SELECT x FROM standby_probe')" = 42 ]
	[ "$(psql_at "$SP" 'SELECT pg_is_in_recovery()')" = t ]
	[ "$(psql_at "$SP" 'SELECT version FROM schema_version')" = 11 ]
	run psql_at "$SP" "INSERT INTO standby_probe VALUES (1)"
	[ "$status" -ne 0 ]
	run "$FATHOM" db status --dir "$sb"
	[ "$status" -eq 0 ]
	# a second standby with the same name is refused (its slot exists), and leaves nothing
	run "$FATHOM" db standby --dir "$TOP/standby2" --primary "postgresql://fathom:$pw@127.0.0.1:$LP/fathom" --port "$(free_port)" --name "test standby"
	[ "$status" -eq 1 ]; [[ "$output" == *"pg_basebackup failed"* ]]
	[ ! -e "$TOP/standby2/pgdata" ]
	# promoted, it takes writes
	"$FATHOM" db stop --dir "$D" >/dev/null
	run "$FATHOM" db promote --dir "$sb"
	[ "$status" -eq 0 ]; [[ "$output" == *"takes writes now"* ]]
	[ "$(psql_at "$SP" 'SELECT pg_is_in_recovery()')" = f ]
	psql_at "$SP" "INSERT INTO standby_probe VALUES (43)" >/dev/null
	run "$FATHOM" db promote --dir "$sb"
	[ "$status" -eq 1 ]; [[ "$output" == *"is not a standby"* ]]
	"$FATHOM" db stop --dir "$sb" >/dev/null
	"$FATHOM" db start --dir "$D" >/dev/null
}
