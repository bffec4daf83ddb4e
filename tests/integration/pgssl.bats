#!/usr/bin/env bats
# TLS to the repository database: a PostgreSQL server configured with the lines that
# `fathom pg-config --ssl` prints, and sites that connect with sslmode=require and
# sslmode=verify-full (and are refused without TLS or with the wrong CA).

load helpers

setup_file() {
	pg_up
	local c=$PGDIR/certs
	mkdir -p "$c"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test database CA" \
		-keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$c/other.key" -out "$c/other.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$c/server.key" \
		-out "$c/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$c/san.ext"
	openssl x509 -req -in "$c/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
		-days 2 -extfile "$c/san.ext" -out "$c/server.crt" 2>/dev/null
	cp "$c/server.crt" "$c/server.key" "$PGDIR/data/"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR/data/server.crt" "$PGDIR/data/server.key"
	chmod 600 "$PGDIR/data/server.key"
	# The site's lines from pg-config, for the loopback subnet; the listen address stays
	# loopback-only for the test, and the hba lines go first (the first match wins).
	"$FATHOM" pg-config --nodes 2 --subnet 127.0.0.1/32 --ssl >"$PGDIR/site.conf"
	sed -n '/^# postgresql.conf/,/^$/p' "$PGDIR/site.conf" | grep -v '^listen_addresses' \
		>>"$PGDIR/data/postgresql.conf"
	{ grep -E '^host(no)?ssl' "$PGDIR/site.conf"; cat "$PGDIR/data/pg_hba.conf"; } >"$PGDIR/hba"
	cp "$PGDIR/hba" "$PGDIR/data/pg_hba.conf"
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w restart \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
}

teardown_file() { pg_down; }

setup() { node_vars; }
teardown() { stop_node_if_running; }

@test "pg-config sizes max_connections from the pools and writes hostssl lines" {
	grep -qx 'max_connections = 32' "$PGDIR/site.conf"        # 2 x (8 + 3) + 10
	grep -qE '^hostssl +fathom +fathom +127.0.0.1/32 +scram-sha-256$' "$PGDIR/site.conf"
	run "$FATHOM" pg-config --nodes 3 --subnet 10.0.0.0/24 --pool-size 4
	[ "$status" -eq 0 ]
	[[ "$output" == *"max_connections = 31"* ]]
	[[ "$output" == *"host     fathom"* ]]
	run "$FATHOM" pg-config --nodes 3 --subnet 10.0.0.0/40
	[ "$status" -eq 2 ]; [[ "$output" == *"--subnet"* ]]
	run "$FATHOM" pg-config --nodes 0 --subnet 10.0.0.0/24
	[ "$status" -eq 2 ]
}

@test "without TLS the server refuses the site's role" {
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--db "postgresql://fathom:secret@127.0.0.1:$PGPORT/fathom?sslmode=disable"
	[ "$status" -eq 1 ]; [[ "$output" == *"no encryption"* ]]
	[ ! -e "$D" ]
}

@test "sslmode=require: the site works and its connections are encrypted" {
	pg_new_db tls1
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost \
		--db "postgresql://fathom:secret@127.0.0.1:$PGPORT/tls1?sslmode=require"
	[ "$status" -eq 0 ]
	grep -q "sslmode='require'" "$D/node.conf"
	SITE=$D start_node "$D"
	s=$(SITE=$D BASE=https://localhost:$P json POST /qrs/tag '{"name":"over tls"}'); expect 201 "$s"
	[ "$(pg_sql postgres "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
		WHERE a.usename = 'fathom' AND a.datname = 'tls1' AND NOT s.ssl")" = 0 ]
	[ "$(pg_sql postgres "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
		WHERE a.usename = 'fathom' AND a.datname = 'tls1' AND s.ssl")" -ge 1 ]
	stop_node "$D"
}

@test "sslmode=verify-full checks the server against the given CA" {
	pg_new_db tls2
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--db "postgresql://fathom:secret@localhost:$PGPORT/tls2?sslmode=verify-full&sslrootcert=$PGDIR/certs/other.crt"
	[ "$status" -eq 1 ]; [[ "$output" == *"certificate verify failed"* ]]
	[ ! -e "$D" ]
	run "$FATHOM" site create --dir "$D" --share "$S" --repository-port "$P" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--db "postgresql://fathom:secret@localhost:$PGPORT/tls2?sslmode=verify-full&sslrootcert=$PGDIR/certs/ca.crt"
	[ "$status" -eq 0 ]
	SITE=$D start_node "$D"
	s=$(SITE=$D BASE=https://localhost:$P api GET /qrs/about); expect 200 "$s"
	stop_node "$D"
}
