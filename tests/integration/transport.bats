#!/usr/bin/env bats
# The transport under both ports: sessions abandoned in every way give back every descriptor
# and thread, idle and slow clients cannot lock others out, malformed HTTP gets the API's
# JSON errors (the golden cases in tests/golden/http), a session that reads nothing cannot
# fill the node's memory, TLS is 1.2/1.3 with AEAD suites only, on both ports, and SIGHUP
# reloads the server certificate.

load helpers

WIRE="node $BATS_TEST_DIRNAME/wire.js"

setup_file() {
	site_up
	# short time-outs, so that the cases below take seconds
	node_conf_add "\n[http]\nhandshake_timeout_s = 2\nws_ping_interval_s = 1\nmax_connections_per_address = 300\n"
	export EPORT
	EPORT=$(conf_port "$SITE" engine)
}
teardown_file() { site_down; }

pid() { cat "$SITE/pid"; }
fds() { ls "/proc/$(pid)/fd" | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$(pid)/status"; }

# settle VAR: waits until the node's descriptors and threads are back at (or below) their
# baseline ($FD0, $TH0), at most 20 s; prints what it saw when they are not.
settle() {
	for _ in $(seq 1 100); do
		if [ "$(fds)" -le "$FD0" ] && [ "$(threads)" -le "$TH0" ]; then return 0; fi
		sleep 0.2
	done
	echo "descriptors $(fds) (baseline $FD0), threads $(threads) (baseline $TH0)" >&2
	return 1
}

# baseline: the node at rest, after its worker threads of earlier requests ended.
baseline() {
	sleep 6
	FD0=$(fds)
	TH0=$(threads)
}

@test "QIX sessions left by a close frame, a FIN, a reset or silence give back every descriptor and thread" {
	baseline
	for mode in close fin rst; do
		run $WIRE abandon "$EPORT" "$SITE/certs" "" "$mode" 100
		[ "$status" -eq 0 ]; [ "$output" = "opened 100" ]
		settle
	done
	# silent peers stop answering pings (every 1 s here): dropped within two intervals,
	# while the client still holds its sockets open
	$WIRE abandon "$EPORT" "$SITE/certs" "" silent 50 15 >"$BATS_TEST_TMPDIR/silent" &
	local client=$!
	for _ in $(seq 1 50); do grep -q "opened 50" "$BATS_TEST_TMPDIR/silent" && break; sleep 0.2; done
	grep -q "opened 50" "$BATS_TEST_TMPDIR/silent"
	settle
	kill -0 "$client" # the client had not gone away: the node let go of it
	kill "$client"
}

@test "a session that reads none of its answers is cut off at 64 MiB queued, and the node's memory stays bounded" {
	# a script of 2 MiB: 200 GetScript calls ask for 400 MiB of answers
	python3 -c "import sys; sys.stdout.write(('// ' + 'x' * 60 + '\\n') * 33000 + 'T: LOAD * INLINE [A\\n1];\\n')" >"$BATS_TEST_TMPDIR/big.qvs"
	"$FATHOM" app create Flood --dir "$SITE" --script "$BATS_TEST_TMPDIR/big.qvs" >/dev/null
	api GET "/qrs/app?filter=name%20eq%20'Flood'" >/dev/null
	local app
	app=$(jqb '.[0].id')
	local rss0 peak=0 r
	rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(pid)/status")
	mkfifo "$BATS_TEST_TMPDIR/hold"
	$WIRE flood "$EPORT" "$SITE/certs" "$app" 200 <"$BATS_TEST_TMPDIR/hold" >"$BATS_TEST_TMPDIR/flood" &
	local client=$!
	exec 8>"$BATS_TEST_TMPDIR/hold"
	# the client holds its connection until the node cuts it off (on a busy machine, under
	# ASan, making 32 answers of 2 MiB takes a while: up to five minutes are allowed)
	local t0=$SECONDS k v _u
	for _ in $(seq 1 3000); do
		while read -r k v _u; do [ "$k" = VmRSS: ] && break; done <"/proc/$(pid)/status"
		[ "$v" -gt "$peak" ] && peak=$v
		grep -q "does not read its messages" "$SITE/stderr.log" && break
		sleep 0.1
	done
	echo "the node cut the session off after $((SECONDS - t0)) s" >&2
	exec 8>&-
	wait "$client" || true
	grep -q "does not read its messages" "$SITE/stderr.log"
	# 64 MiB queued, the message being written, and the engine's working copies; not 400.
	# Under ASan (the sanitized build's tests have FATHOM_SANITIZED=ON) freed memory waits
	# in its 256 MiB quarantine first.
	local limit=200
	{ [ "${FATHOM_SANITIZED:-OFF}" = ON ] || [ -n "${ASAN_OPTIONS:-}" ]; } && limit=$((200 + 256))
	echo "node memory grew by $(((peak - rss0) / 1024)) MiB (limit $limit)" >&2
	[ $((peak - rss0)) -lt $((limit * 1024)) ]
}

@test "300 sessions opened and dropped leave no threads behind, and the port still answers" {
	baseline
	run $WIRE abandon "$EPORT" "$SITE/certs" "" rst 300
	[ "$output" = "opened 300" ]
	settle
	run $WIRE qix "$EPORT" "$SITE/certs" "" EngineVersion
	[ "$status" -eq 0 ]
}

@test "an engine session's log lines name the engine and the request that opened the socket" {
	run $WIRE qix "$EPORT" "$SITE/certs" "" OpenDoc '["no-such-app-for-the-log"]'
	[ "$status" -eq 0 ]
	for _ in $(seq 1 20); do grep -q 'no-such-app-for-the-log' "$SITE/logs/fathom.log" && break; sleep 0.1; done
	grep -qE '^[^ ]+ info  \[[0-9]+ [^ ]+ engine [0-9a-f]{16}\] engine: OpenDoc no-such-app-for-the-log' "$SITE/logs/fathom.log"
}

@test "idle connections are dropped after the handshake time-out and lock nobody out meanwhile" {
	baseline
	$WIRE idle "$PORT" 280 4 >"$BATS_TEST_TMPDIR/idle" &
	sleep 1
	# a request meanwhile is answered at once
	s=$(api GET /qrs/about); expect 200 "$s"
	wait
	# every idle connection was closed by the node (time-out 2 s)
	grep -q "opened 280 closed 280" "$BATS_TEST_TMPDIR/idle"
	settle
}

@test "one address past its connection limit is refused, logged once, and others still get in" {
	$WIRE idle "$PORT" 320 3 >"$BATS_TEST_TMPDIR/idle" &
	sleep 1
	# another loopback address is not limited by the first one's connections
	s=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 --cacert "$SITE/certs/root.pem" \
		--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" \
		-H "X-Qlik-Xrfkey: $XRF" "https://127.0.0.1:$PORT/qrs/about?xrfkey=$XRF")
	[ "$s" = 200 ]
	wait
	[ "$(grep -c 'has 300 connections, the most one address may have' "$SITE/logs/fathom.log")" = 1 ]
}

@test "malformed requests get the API's JSON errors (golden cases)" {
	s=$(json POST /qrs/stream '{"name":"kept"}'); expect 201 "$s"
	STREAM=$(jqb .id)
	n=0
	for f in "$BATS_TEST_DIRNAME"/../golden/http/*.case; do
		# the request: every line up to "<<<", with CRLF line ends and {xrf}/{stream} filled in
		req=$(sed -n '/^<<</q;p' "$f" | grep -v '^#' | sed "s/{xrf}/$XRF/g; s/{stream}/$STREAM/g" |
			perl -pe 's/\{pad:(\d+)\}/"a" x $1/ge')
		want=$(sed -n 's/^<<< //p' "$f")
		got=$(printf '%s\n\n' "$req" | sed 's/$/\r/' | $WIRE raw "$PORT" "$SITE/certs" | head -1 |
			tr -d '\r')
		if [ "$got" != "HTTP/1.1 $want" ]; then
			echo "$(basename "$f"): expected HTTP/1.1 $want, got: $got" >&2
			return 1
		fi
		n=$((n + 1))
	done
	[ "$n" -ge 8 ]
	# the stream named with a NUL after its id was not deleted
	s=$(api GET "/qrs/stream/$STREAM"); expect 200 "$s"
}

@test "a body declared past the limit gets 413 in JSON before any of it is sent, and no 100 Continue" {
	out=$(printf 'POST /qrs/stream?xrfkey=%s HTTP/1.1\r\nHost: x\r\nX-Qlik-Xrfkey: %s\r\nContent-Type: application/json\r\nContent-Length: 100000000000\r\nExpect: 100-continue\r\n\r\n' "$XRF" "$XRF" |
		$WIRE raw "$PORT" "$SITE/certs")
	[[ "$out" == "HTTP/1.1 413 "* ]]
	[[ "$out" != *"100 Continue"* ]]
	body=$(printf '%s' "$out" | tail -1)
	[ "$(echo "$body" | jq -r .code)" = ERR_TOO_LARGE ]
}

@test "TLS 1.0, 1.1 and CBC suites are refused on both ports; 1.2 with AEAD and 1.3 are served" {
	for port in "$PORT" "$EPORT"; do
		for v in -tls1 -tls1_1; do
			run openssl s_client -connect "127.0.0.1:$port" "$v" </dev/null
			[[ "$output" != *"Cipher is ECDHE"* ]]; [[ "$output" == *"Cipher is (NONE)"* ]]
		done
		run openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA </dev/null
		[[ "$output" == *"Cipher is (NONE)"* ]]
		run openssl s_client -connect "127.0.0.1:$port" -tls1_2 </dev/null
		[[ "$output" == *"Cipher is ECDHE-ECDSA-AES"*"GCM"* ]]
		run gnutls-cli --x509cafile "$SITE/certs/root.pem" -p "$port" localhost </dev/null
		[ "$status" -eq 0 ]; [[ "$output" == *"(TLS1.3"* ]]
		run gnutls-cli --x509cafile "$SITE/certs/root.pem" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.1" \
			-p "$port" localhost </dev/null
		[ "$status" -ne 0 ]
	done
}

# cert NAME ACTIVATION EXPIRATION: a client certificate from the site's CA with those dates.
cert() {
	local d=$BATS_TEST_TMPDIR
	cat >"$d/$1.tmpl" <<-EOF
		cn = "$1"
		activation_date = "$2"
		expiration_date = "$3"
		tls_www_client
		signing_key
	EOF
	certtool --generate-privkey --key-type ecdsa --outfile "$d/$1.key" 2>/dev/null
	certtool --generate-certificate --load-privkey "$d/$1.key" --load-ca-certificate \
		"$SITE/certs/root.pem" --load-ca-privkey "$SITE/certs/root_key.pem" \
		--template "$d/$1.tmpl" --outfile "$d/$1.pem" 2>/dev/null
}

@test "a refused client certificate is named for what is wrong with it" {
	cert expired "2020-01-01 00:00:00" "2020-12-31 00:00:00"
	cert early "2099-01-01 00:00:00" "2099-12-31 00:00:00"
	for c in expired:"has expired" early:"is not valid yet"; do
		name=${c%%:*} want=${c#*:}
		s=$(api GET /qrs/about --cert "$BATS_TEST_TMPDIR/$name.pem" --key "$BATS_TEST_TMPDIR/$name.key")
		expect 403 "$s"
		[[ "$(jqb .message)" == *"$want"* ]]
	done
	# one from another authority
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=stranger" -keyout "$BATS_TEST_TMPDIR/s.key" -out "$BATS_TEST_TMPDIR/s.pem" 2>/dev/null
	s=$(api GET /qrs/about --cert "$BATS_TEST_TMPDIR/s.pem" --key "$BATS_TEST_TMPDIR/s.key")
	expect 403 "$s"
	[[ "$(jqb .message)" == *"not signed by this site's certificate authority"* ]]
}

# serial_of PORT: the serial of the certificate the port presents to a new connection.
serial_of() {
	openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -serial |
		cut -d= -f2 | tr 'A-F' 'a-f'
}

@test "SIGHUP reloads the server certificate for new connections; open sessions keep theirs" {
	local d=$BATS_TEST_TMPDIR c=$SITE/certs
	cp "$c/server.pem" "$d/old.pem"
	cp "$c/server_key.pem" "$d/old.key"
	local old
	old=$(openssl x509 -in "$c/server.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	[ "$(serial_of "$EPORT")" = "$old" ]
	mkfifo "$d/in"
	$WIRE hold "$EPORT" "$c" <"$d/in" >"$d/held" &
	local client=$!
	exec 7>"$d/in"
	for _ in $(seq 1 50); do grep -q serial "$d/held" && break; sleep 0.1; done
	[ "$(cut -d' ' -f2 "$d/held" | tr 'A-F' 'a-f')" = "$old" ]
	# a new certificate from the site's CA, with its own key and serial
	cat >"$d/new.tmpl" <<-EOF
		cn = "localhost"
		dns_name = "localhost"
		ip_address = "127.0.0.1"
		expiration_days = 2
		tls_www_server
		signing_key
		encryption_key
	EOF
	certtool --generate-privkey --key-type ecdsa --outfile "$d/new.key" 2>/dev/null
	certtool --generate-certificate --load-privkey "$d/new.key" --load-ca-certificate \
		"$c/root.pem" --load-ca-privkey "$c/root_key.pem" --template "$d/new.tmpl" \
		--outfile "$d/new.pem" 2>/dev/null
	local new
	new=$(openssl x509 -in "$d/new.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	[ "$new" != "$old" ]
	cp "$d/new.pem" "$c/server.pem"
	cp "$d/new.key" "$c/server_key.pem"
	kill -HUP "$(pid)"
	for _ in $(seq 1 50); do grep -q "server certificate is reloaded" "$SITE/logs/fathom.log" && break; sleep 0.1; done
	grep -q "server certificate is reloaded" "$SITE/logs/fathom.log"
	[ "$(serial_of "$EPORT")" = "$new" ]
	[ "$(serial_of "$PORT")" = "$new" ]
	s=$(api GET /qrs/about) # the API still serves, with the new certificate
	expect 200 "$s"
	# the session opened before still answers, on its connection with the old certificate
	echo call >&7
	for _ in $(seq 1 50); do grep -q answer "$d/held" && break; sleep 0.1; done
	[ "$(grep answer "$d/held" | cut -d' ' -f2 | tr 'A-F' 'a-f')" = "$old" ]
	# a certificate that is not usable changes nothing, and the log says why
	echo "not a certificate" >"$c/server.pem"
	kill -HUP "$(pid)"
	for _ in $(seq 1 50); do grep -q "certificate was not reloaded" "$SITE/logs/fathom.log" && break; sleep 0.1; done
	grep -q "certificate was not reloaded" "$SITE/logs/fathom.log"
	[ "$(serial_of "$EPORT")" = "$new" ]
	exec 7>&-
	wait "$client"
	cp "$d/old.pem" "$c/server.pem"
	cp "$d/old.key" "$c/server_key.pem"
	kill -HUP "$(pid)"
}

@test "a TLS priority string that GnuTLS refuses stops the node with the place it fails" {
	node_vars
	make_site "$D" "$S" "$P"
	printf '[tls]\npriority = NORMAL:+NOSUCHTHING\n' >>"$D/node.conf"
	run "$FATHOM" run --dir "$D" $(root_flag)
	[ "$status" -ne 0 ]
	[[ "$output" == *"TLS priority string is not valid near"*"NOSUCHTHING"* ]]
}

@test "the node raises its descriptor limit and says so" {
	grep -q "node can hold [0-9]* open descriptors" "$SITE/logs/fathom.log"
	[ "$(awk '/Max open files/ { print $4 }' "/proc/$(pid)/limits")" = \
		"$(awk '/Max open files/ { print $5 }' "/proc/$(pid)/limits")" ]
}
