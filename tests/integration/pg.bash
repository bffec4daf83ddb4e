# pg.bash: a throwaway PostgreSQL 15 for one test file: initdb as the postgres user in a
# temporary folder, listening on a free loopback port, with a role and a database for the
# site (password authentication over TCP, trust over the folder's socket for set-up).

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_up: starts the server; exports PGDIR, PGPORT and DB_URL (role fathom, database fathom).
pg_up() {
	export PGDIR PGPORT DB_URL
	PGDIR=$(mktemp -d /tmp/fathom-pg-XXXXXX)
	chmod 755 "$PGDIR"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
		as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; return 1; }
	# Another program may take the chosen port first: try a few.
	local started=
	for _ in 1 2 3; do
		PGPORT=$(free_port)
		if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
			-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
			started=1
			break
		fi
	done
	[ -n "$started" ] || { cat "$PGDIR/server.log" >&2; return 1; }
	pg_sql postgres "CREATE ROLE fathom LOGIN PASSWORD 'secret'" >/dev/null
	pg_sql postgres "CREATE DATABASE fathom OWNER fathom" >/dev/null
	export PGDB=fathom
	DB_URL="postgresql://fathom:secret@127.0.0.1:$PGPORT/fathom"
}

# pg_new_db NAME: a fresh database for one test; points DB_URL and PGDB at it.
pg_new_db() {
	pg_sql postgres "CREATE DATABASE $1 OWNER fathom" >/dev/null
	export PGDB=$1
	DB_URL="postgresql://fathom:secret@127.0.0.1:$PGPORT/$1"
}

pg_down() {
	[ -n "${PGDIR:-}" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$PGDIR"
}

# pg_sql DB SQL: runs SQL as the superuser over the socket; prints unaligned rows.
pg_sql() {
	as_pg psql -h "$PGDIR" -p "$PGPORT" -U postgres -d "$1" -tA -F '|' -v ON_ERROR_STOP=1 -c "$2"
}

# pg_stop / pg_start: stops the server (fast: clients are disconnected) and starts it again
# on the same port.
pg_stop() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null
}
pg_start() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
