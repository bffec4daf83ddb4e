#!/usr/bin/env bats
# A site on an existing PostgreSQL database (fathom site create --db): it works, and a bad
# connection is reported plainly with nothing created.

load helpers

setup_file() { pg_up; }
teardown_file() { pg_down; }

setup() {
	D=$BATS_TEST_TMPDIR/site
	S=$BATS_TEST_TMPDIR/share
	P=$(free_port)
}

teardown() {
	[ -f "$D/pid" ] && stop_node "$D" || true
}

create_fails_plainly() {
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --db "$1"
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
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --hostname localhost \
		--db "$DB_URL"
	[ "$status" -eq 0 ]
	grep -q '^driver = postgres$' "$D/node.conf"
	[ ! -e "$D/repository.db" ]
	[ "$(pg_sql site1 'SELECT version FROM schema_version')" = 1 ]
	[ "$(pg_sql site1 'SELECT count(*) FROM servernodeconfiguration WHERE is_central = 1')" = 1 ]
	SITE=$D start_node "$D"
	SITE=$D BASE=https://localhost:$P
	s=$(SITE=$D BASE=https://localhost:$P api GET /qrs/about); expect 200 "$s"
	[ "$(jqb .databaseProvider)" = PostgreSQL ]
	stop_node "$D"
}

@test "a database that already holds a site is refused and nothing changes" {
	pg_new_db site2
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --db "$DB_URL" >/dev/null
	before=$(pg_sql site2 'SELECT count(*) FROM change_log')
	run "$FATHOM" site create --dir "$D.2" --share "$S.2" --repository-port "$P" --db "$DB_URL"
	[ "$status" -eq 1 ]; [[ "$output" == *"already holds a Fathom site"* ]]
	[ ! -e "$D.2" ]
	[ "$(pg_sql site2 'SELECT count(*) FROM change_log')" = "$before" ]
}

@test "run explains a database it cannot reach" {
	pg_new_db site3
	"$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --db "$DB_URL" >/dev/null
	sed -i "s|^conninfo = .*|conninfo = postgresql://fathom:wrong@127.0.0.1:$PGPORT/site3|" "$D/node.conf"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -eq 1 ]; [[ "$output" == *'password authentication failed for user "fathom"'* ]]
}
