# helpers.bash: shared setup for the integration tests. Each test file gets its own site
# (a node folder and a share in a temporary folder) and a real `fathom run` process on a
# free port; requests go over HTTPS with the site's client certificate, as a client would.

: "${FATHOM:?set FATHOM to the fathom binary}"
XRF=abcdefghijklmnop

# sleep and seq as builtins of this shell (Debian's bash-builtins) where it can load them:
# the suites poll thousands of times, and each /bin/sleep or /usr/bin/seq is a fork and an
# exec, 6 ms of processor time on the build machine
for _builtin in sleep seq; do
	enable -f "/usr/lib/bash/$_builtin" "$_builtin" 2>/dev/null || true
done
unset _builtin

# Bats runs a trap before every command of a test and of each function it calls (set -T),
# to report where a test failed: 0.3 ms of processor time a command here, more than most of
# these helpers' own work. The busiest run without it (`untraced`, a function whose shell
# options are its own): a failure in one is reported at the line that called it.
untraced() {
	local -
	set +T
	"$@"
}
free_port() { untraced _free_port "$@"; }
start_node() { untraced _start_node "$@"; }
stop_node() { untraced _stop_node "$@"; }
hclient() { untraced _hclient "$@"; }
api() { untraced _api "$@"; }
check_consistency() { untraced _check_consistency "$@"; }
writer() { untraced _writer "$@"; }

# free_port: a loopback port that nothing listens on and that no test on this machine was
# handed in the last ten minutes (a port chosen for a server that has not started yet is
# not listening either, and ctest runs several test files at once). Ports come from below
# the kernel's ephemeral range (32768 and up), which clients use for their own ends.
_free_port() {
	local list=/tmp/fathom-test-ports
	(
		flock 9
		# (a few commands whatever the list's length: bats traps every command a test
		# runs, so a loop over the list's lines in bash costs more than a program)
		local now p lines=()
		printf -v now '%(%s)T' -1
		[ ! -f "$list" ] || mapfile -t lines <"$list"
		if [ "${#lines[@]}" -gt 2000 ]; then
			awk -v now="$now" 'now - $2 < 600' "$list" >"$list.new" && mv "$list.new" "$list"
			mapfile -t lines <"$list"
		fi
		# "port time" lines: a port listed is not handed out again (the list keeps the
		# last ten minutes' once it grows past 2,000)
		local listed=" ${lines[*]} "
		for _ in {1..500}; do
			p=$((10000 + RANDOM % 22000))
			[[ $listed != *" $p "* ]] || continue
			# nothing may listen there: a connect must fail
			if ! { exec 8<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then
				echo "$p $now" >>"$list"
				echo "$p"
				exit 0
			fi
			exec 8>&-
		done
		exit 1
	) 9>>"$list.lock"
}

# conf_port DIR [SECTION]: the port of a section of DIR/node.conf (default repository).
conf_port() {
	awk -v want="[${2:-repository}]" '/^\[/ { sec = $0 } sec == want && $1 == "port" { print $3 }' \
		"$1/node.conf"
}

root_flag() {
	if [ "$(id -u)" -eq 0 ]; then echo --allow-root; fi
}

# make_site DIR SHARE PORT [extra site create args]
make_site() {
	local dir=$1 share=$2 port=$3
	shift 3
	"$FATHOM" site create --dir "$dir" --share "$share" --repository-port "$port" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" \
		--hostname localhost --name node1 "$@" >/dev/null
}

# start_node DIR: starts the node in the background and waits for its /qrs/about (the
# node of DIR's node.conf answering, not another that holds the port).
_start_node() {
	local dir=$1 root=()
	[ "$EUID" -ne 0 ] || root=(--allow-root)
	"$FATHOM" run --dir "$dir" ${root[@]+"${root[@]}"} --gc-interval 1 --heartbeat-interval 1 \
		>>"$dir/stderr.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/pid"
	# node.conf's node id and repository port (the loop below starts no program until
	# something listens: a program's start costs milliseconds of processor time here)
	local port id about fd i
	read -r id port < <(awk '/^\[/ { s = $0 } /^id = / && !id { id = $3 }
		s == "[repository]" && $1 == "port" { port = $3 } END { print id, port }' "$dir/node.conf")
	for ((i = 0; i < 100; i++)); do
		if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
			exec {fd}>&-
			if about=$(curl -s --cacert "$dir/certs/root.pem" --cert "$dir/certs/client.pem" \
				--key "$dir/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
				"https://localhost:$port/qrs/about?xrfkey=$XRF"); then
				[ "$(jq -r .serverNodeId <<<"$about" 2>/dev/null)" = "$id" ] && return 0
			fi
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "node exited during start:" >&2
			cat "$dir/stderr.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "node did not answer within 10 s" >&2
	return 1
}

# stop_node DIR: SIGTERM, then checks a clean exit and a log free of sanitizer reports.
_stop_node() {
	local dir=$1 pid
	pid=$(cat "$dir/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	local rc=0
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" -eq 127 ]; then
		# started by another shell (a test restarted what setup_file started): its exit
		# status is not ours to read, so wait for it to be gone
		rc=0
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && rc=1
	fi
	rm -f "$dir/pid"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$dir/stderr.log"; then
		echo "sanitizer report in $dir/stderr.log:" >&2
		cat "$dir/stderr.log" >&2
		return 1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "node exited with $rc on SIGTERM" >&2
		tail -20 "$dir/stderr.log" >&2
		return 1
	fi
}

# node_vars: per-test names for one node's folder ($D), its share ($S) and its port ($P).
node_vars() {
	D=$BATS_TEST_TMPDIR/site
	S=$BATS_TEST_TMPDIR/share
	P=$(free_port)
}

# stop_node_if_running: for teardown, after a test that may have started the node in $D.
stop_node_if_running() {
	[ -f "$D/pid" ] && stop_node "$D" || true
}

kill9_node() {
	local dir=$1
	kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
	wait "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid"
}

# join_node DIR PORT NAME FIRST_DIR: joins a node to the PostgreSQL site ($DB_URL, share
# $SH) of the node in FIRST_DIR: register, approve there, finish with the password.
join_node() {
	local dir=$1 port=$2 name=$3 first=$4 pw
	"$FATHOM" node join --dir "$dir" --share "$SH" --db "$DB_URL" --name "$name" \
		--repository-port "$port" --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost >/dev/null
	pw=$("$FATHOM" node approve "$name" --dir "$first" 2>/dev/null)
	"$FATHOM" node join --dir "$dir" --password "$pw" >/dev/null
}

# writer DIR PORT TYPE PREFIX [PAUSE]: creates TYPE entities ({"name": "PREFIX-i"}) through
# the node in DIR on PORT until $BATS_TEST_TMPDIR/stop exists, logging "status name" lines
# to $BATS_TEST_TMPDIR/writes.PREFIX. For tests that write while something breaks.
_writer() {
	local d=$1 p=$2 type=$3 t=$4 pause=${5:-0.05} i=0 s
	while [ ! -f "$BATS_TEST_TMPDIR/stop" ]; do
		i=$((i + 1))
		s=$(hclient POST "https://localhost:$p/qrs/$type?xrfkey=$XRF" "$d/certs/root.pem" \
			"$d/certs/client.pem" "$d/certs/client_key.pem" /dev/null -m 20 \
			-H "X-Qlik-Xrfkey: $XRF" -H 'Content-Type: application/json' \
			--data-binary "{\"name\":\"$t-$i\"}") || true
		echo "$s $t-$i" >>"$BATS_TEST_TMPDIR/writes.$t"
		sleep "$pause"
	done
}

# flip_byte FILE OFFSET: invert every bit of one byte, so that the file surely changes
# (writing a fixed byte leaves random content as it was one time in 256)
flip_byte() {
	local byte
	byte=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	[ -n "$byte" ] || { echo "flip_byte: $1 has no byte at $2" >&2; return 1; }
	printf "\\$(printf %o $((byte ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# app_file PATH BYTES: writes a valid app file of about BYTES bytes (an empty script and
# a block of random padding) for uploads.
app_file() {
	"$FATHOM" app file --out "$1" --padding-bytes "$2" >/dev/null
}

# oneshots COUNT FIRST TENTHS: COUNT one-shot triggers, the first FIRST seconds from now,
# then one every TENTHS tenths of a second, as a JSON list body (a reload task's
# schemaEvents)
oneshots() {
	local events="" at
	for i in $(seq 0 $(($1 - 1))); do
		at=$(date -u -d "+$(($2 + i * $3 / 10)) sec" +%Y-%m-%dT%H:%M:%S.000Z)
		events="$events${events:+,}{\"name\":\"once$i\",\"startDate\":\"$at\",\"incrementOption\":0,\"incrementDescription\":\"0 0 0 0\"}"
	done
	echo "$events"
}

# The repository the tests run against: FATHOM_TEST_DB=postgres runs the same files on a
# throwaway PostgreSQL (pg.bash) instead of the embedded SQLite default.
source "$(dirname "${BASH_SOURCE[0]}")/pg.bash"
on_postgres() { [ "${FATHOM_TEST_DB:-sqlite}" = postgres ]; }

# Sets up one site for the whole file (call from setup_file).
site_up() {
	export SITE=$BATS_FILE_TMPDIR/site SHARE=$BATS_FILE_TMPDIR/share
	export PORT
	PORT=$(free_port)
	export BASE=https://localhost:$PORT
	if on_postgres; then
		pg_up
		make_site "$SITE" "$SHARE" "$PORT" --db "$DB_URL" "$@"
	else
		make_site "$SITE" "$SHARE" "$PORT" "$@"
	fi
	start_node "$SITE"
}

# node_conf_add TEXT: adds TEXT (printf %b escapes) to the site node's node.conf and restarts it
node_conf_add() {
	stop_node "$SITE"
	printf "%b" "$1" >>"$SITE/node.conf"
	start_node "$SITE"
}

# new_app NAME SCRIPT: creates an app with that script (printf %b escapes) on the site
# node; prints its id
new_app() {
	printf '%b' "$2" >"$BATS_TEST_TMPDIR/$1.qvs"
	"$FATHOM" app create "$1" --dir "$SITE" --script "$BATS_TEST_TMPDIR/$1.qvs" >/dev/null
	api GET "/qrs/app?filter=name%20eq%20'$1'" >/dev/null
	jqb '.[0].id'
}

site_down() {
	local rc=0
	stop_node "$SITE" || rc=$?
	on_postgres && pg_down
	return $rc
}

# sql QUERY: runs a query on the site's repository; rows as a|b|c lines.
sql() {
	if on_postgres; then
		pg_sql "${PGDB:-fathom}" "$1"
	else
		sqlite3 "$SITE/repository.db" "$1"
	fi
}

# hclient METHOD URL CA CERT KEY OUT [-H h]... [--data-binary d] [-m s]: a request as
# `curl -s -o OUT -w '%{http_code}' -X METHOD --cacert CA --cert CERT --key KEY ... URL`
# would send it, through the bats run's hclient.mjs (started on first use): it prints the
# status and returns curl's exit status, without a program's start per request. It
# returns 99 having sent nothing where it cannot (another curl argument, no Node.js).
_hclient() {
	local method=$1 url=$2 ca=$3 cert=$4 key=$5 out=$6 timeout=0 data="" hdrs=() port fd
	shift 6
	while [ $# -gt 0 ]; do
		case $1 in
		-H) hdrs+=("H $2") ;;
		--data-binary)
			[ -z "$data" ] || return 99
			if [[ $2 == @* ]]; then
				data=${2#@}
			else
				data=$BATS_TEST_TMPDIR/hclient.$BASHPID
				printf '%s' "$2" >"$data"
			fi
			;;
		-m | --max-time) timeout=$2 ;;
		*) return 99 ;;
		esac
		[ $# -ge 2 ] || return 99
		shift 2
	done
	local pf=$BATS_RUN_TMPDIR/hclient.port
	if [ ! -s "$pf" ]; then
		command -v node >/dev/null || return 99
		if mkdir "$BATS_RUN_TMPDIR/hclient.lock" 2>/dev/null; then
			# with none of this shell's descriptors: bats waits for its pipes to close,
			# and the process outlives the test that starts it
			local f closing=""
			for f in /proc/self/fd/*; do
				f=${f##*/}
				[ "$f" -gt 2 ] && closing+=" $f>&-"
			done
			local script
			script=$(dirname "${BASH_SOURCE[0]}")/hclient.mjs
			eval "node \"\$script\" \"\$pf\" \"\$BATS_ROOT_PID\" </dev/null >/dev/null 2>&1 $closing &"
		fi
		for _ in $(seq 1 200); do [ -s "$pf" ] && break; sleep 0.05; done
	fi
	read -r port <"$pf" || return 99
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 99
	printf '%s\n' "$method" "$url" "$ca" "$cert" "$key" "$out" "$timeout" "$data" \
		${hdrs[@]+"${hdrs[@]}"} END >&"$fd"
	local status rc
	read -r status rc <&"$fd"
	exec {fd}>&-
	printf '%s' "${status:-000}"
	return "${rc:-56}"
}

# api METHOD PATH [curl args...]: sends a request with the client certificate and the
# xrfkey (appended to the query). Prints the status; the body is in the file $BODY
# (a fixed path per test, so it works from inside $(...)). Through hclient where it can,
# else (or with FATHOM_TEST_CURL=1) with curl.
BODY_FILE() { echo "$BATS_TEST_TMPDIR/body"; }
_api() {
	local method=$1 path=$2 rc=0
	shift 2
	local sep='?'
	case "$path" in *\?*) sep='&' ;; esac
	BODY=$BATS_TEST_TMPDIR/body
	if [ -z "${FATHOM_TEST_CURL:-}" ]; then
		hclient "$method" "$BASE$path${sep}xrfkey=$XRF" "$SITE/certs/root.pem" \
			"$SITE/certs/client.pem" "$SITE/certs/client_key.pem" "$BODY" \
			-H "X-Qlik-Xrfkey: $XRF" "$@" || rc=$?
		[ "$rc" -eq 99 ] || return "$rc"
	fi
	curl -s -o "$BODY" -w '%{http_code}' -X "$method" --cacert "$SITE/certs/root.pem" \
		--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" \
		-H "X-Qlik-Xrfkey: $XRF" "$@" "$BASE$path${sep}xrfkey=$XRF"
}

# json METHOD PATH BODY: api with a JSON body.
json() {
	local method=$1 path=$2 body=$3
	shift 3
	api "$method" "$path" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

# jqb FILTER: runs jq on the last body.
jqb() {
	jq -r "$@" "$BATS_TEST_TMPDIR/body"
}

# expect STATUS ACTUAL: fails with the body shown when they differ.
expect() {
	if [ "$1" != "$2" ]; then
		echo "expected HTTP $1, got $2; body:" >&2
		cat "$BATS_TEST_TMPDIR/body" >&2
		echo >&2
		return 1
	fi
}

# The number of rows of a table in the site's database.
rows() {
	sql "SELECT count(*) FROM $1 ${2:-}"
}

# App files on the share (not counting hidden temporary files).
# upload_temps: the temporary files of uploads under way in the apps folder (not the share
# probe's .probe-* files, which a node makes and removes every 10 s).
upload_temps() {
	ls -A "$SHARE/Apps" | grep '^\.' | grep -v '^\.probe-' || true
}

app_files() {
	# (-ignore_readdir_race: a probe file removed between reading the folder and looking at
	# the file is not an error)
	find "$SHARE/Apps" -ignore_readdir_race -maxdepth 1 -type f -not -name '.probe-*' -printf '%f\n' | sort
}

# check_consistency: the share and the repository agree. Every app row names a file that
# exists with the recorded size and SHA-256; no temporary file is left (a probe's for at
# most a minute); no file belongs to
# an app that has no row; the node's pending journal is empty.
_check_consistency() {
	local bad=0 id gen size sha f
	while IFS='|' read -r id gen size sha; do
		f="$SHARE/Apps/$id.$gen"
		if [ ! -f "$f" ]; then echo "app $id: file $f missing" >&2; bad=1; continue; fi
		[ "$(stat -c %s "$f")" = "$size" ] || { echo "app $id: size differs" >&2; bad=1; }
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || { echo "app $id: sha differs" >&2; bad=1; }
	done < <(sql "SELECT id, generation, file_size, file_sha256 FROM app")
	# (the node's share probe makes and removes .probe-* files every 10 s: one may be there
	# now, but none may stay)
	local left
	left=$(upload_temps)
	left+=$(find "$SHARE/Apps" -ignore_readdir_race -maxdepth 1 -name '.probe-*' -mmin +1 -printf ' %f')
	if [ -n "$left" ]; then
		echo "temporary files left: $left" >&2
		bad=1
	fi
	for f in $(app_files); do
		id=${f%%.*}
		if [ "$(rows app "WHERE id = '$id'")" = 0 ]; then
			echo "orphan file $f (no app row)" >&2
			bad=1
		fi
	done
	if [ -n "$(ls -A "$SITE/pending" 2>/dev/null)" ]; then
		echo "pending journal not empty: $(ls -A "$SITE/pending")" >&2
		bad=1
	fi
	return $bad
}

# upload NAME FILE: uploads an app; prints the status, body in $(BODY_FILE).
upload() {
	api POST "/qrs/app/upload?name=$1" -H 'Content-Type: application/vnd.qlik.sense.app' \
		--data-binary @"$2"
}

# For suites of numbered nodes (node N's folder in $DN, its repository port in $PN):
# on N METHOD PATH [curl args] and json_on N METHOD PATH BODY are api and json against
# node N, with its certificates.
on() {
	local n=$1
	shift
	local d=D$n p=P$n
	SITE=${!d} BASE=https://localhost:${!p} api "$@"
}
json_on() {
	local n=$1
	shift
	local d=D$n p=P$n
	SITE=${!d} BASE=https://localhost:${!p} json "$@"
}

# three_nodes_up: a site of three nodes on a throwaway PostgreSQL (pg.bash): node N's
# folder in $DN and repository port in $PN, the share in $SH; each started by start_node.
# three_nodes_down stops what runs and the database.
three_nodes_up() {
	pg_up
	export D1=$BATS_FILE_TMPDIR/node1 D2=$BATS_FILE_TMPDIR/node2 D3=$BATS_FILE_TMPDIR/node3
	export SH=$BATS_FILE_TMPDIR/share P1 P2 P3
	P1=$(free_port)
	P2=$(free_port)
	P3=$(free_port)
	make_site "$D1" "$SH" "$P1" --db "$DB_URL"
	start_node "$D1"
	join_node "$D2" "$P2" node2 "$D1"
	start_node "$D2"
	join_node "$D3" "$P3" node3 "$D1"
	start_node "$D3"
}
three_nodes_down() {
	local d
	for d in "$D3" "$D2" "$D1"; do [ -f "$d/pid" ] && stop_node "$d" || true; done
	pg_down
}
