# pg.bash: a throwaway PostgreSQL 15 for one test file: initdb as the postgres user in a
# temporary folder, listening on a free loopback port, with a role and a database for the
# site (password authentication over TCP, trust over the folder's socket for set-up).

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_template: a fresh cluster's folder, made by initdb once per build (beside $FATHOM, or
# at $FATHOM_PG_TEMPLATE) and copied by each pg_up: initdb costs more than a second of
# processor time, and a dozen suites per build want a cluster.
pg_template() {
	local t=${FATHOM_PG_TEMPLATE:-$(dirname "$FATHOM")/pg-template}
	(
		flock 9
		[ -f "$t/ready" ] && exit 0
		# made where the postgres user can reach (a build folder may be closed to it)
		local made
		made=$(mktemp -d /tmp/fathom-pg-XXXXXX)
		chmod 755 "$made"
		[ "$(id -u)" -eq 0 ] && chown postgres "$made"
		if ! as_pg "$PGBIN/initdb" -D "$made/data" -U postgres --auth-local=trust \
			--auth-host=scram-sha-256 >"$made/initdb.log" 2>&1; then
			cat "$made/initdb.log" >&2
			rm -rf "$made"
			exit 1
		fi
		rm -rf "$t"
		mkdir -p "$t"
		cp -a "$made/data" "$t/data" && rm -rf "$made" && touch "$t/ready"
	) 9>"$t.lock" || return 1
	echo "$t/data"
}

# pg_up: starts the server; exports PGDIR, PGPORT and DB_URL (role fathom, database fathom).
pg_up() {
	export PGDIR PGPORT DB_URL
	local template
	template=$(pg_template) || return 1
	PGDIR=$(mktemp -d /tmp/fathom-pg-XXXXXX)
	chmod 755 "$PGDIR"
	[ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
	cp -a "$template" "$PGDIR/data" || return 1
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

# pg_sql DB SQL: runs SQL as the superuser over the socket; prints unaligned rows. (The
# socket trusts every local user, so this needs no runuser, whose start costs as much as
# psql's: tests that poll the database call this several times a second.)
pg_sql() {
	"$PGBIN/psql" -h "$PGDIR" -p "$PGPORT" -U postgres -d "$1" -tA -F '|' -v ON_ERROR_STOP=1 -c "$2"
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
