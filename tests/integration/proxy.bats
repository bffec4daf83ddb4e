#!/usr/bin/env bats
# The proxy: form sign-in against the INTERNAL directory, sessions in the repository
# database, forwarding to the repository and the engine as the signed-in user, and the
# refusals around them (wrong passwords, locked names, cross-site requests, plain HTTP).

load helpers

setup_file() {
	export ADMIN_PW='correct horse battery'
	printf '%s\n' "$ADMIN_PW" >"$BATS_FILE_TMPDIR/admin.pw"
	site_up --admin admin --admin-password-file "$BATS_FILE_TMPDIR/admin.pw"
	export PXP PLAIN
	PXP=$(conf_port "$SITE" proxy)
	PLAIN=$(awk '/^\[/ { s = $0 } s == "[proxy]" && $1 == "http_port" { print $3 }' "$SITE/node.conf")
	export PX=https://localhost:$PXP
	export QPS=https://localhost:$(awk '/^\[/ { s = $0 } s == "[proxy]" && $1 == "api_port" { print $3 }' "$SITE/node.conf")
}
teardown_file() { site_down; }
teardown() { idp_down; }

# px PATH [curl args]: a request to the proxy as a browser would make it (no client
# certificate), from the loopback address $FROM (default 127.0.0.1; failed sign-ins are
# counted per address). Prints the status; headers in $BATS_TEST_TMPDIR/h, body in
# $(BODY_FILE).
px() {
	local path=$1
	shift
	curl -s -o "$(BODY_FILE)" -D "$BATS_TEST_TMPDIR/h" -w '%{http_code}' --interface "${FROM:-127.0.0.1}" \
		--cacert "$SITE/certs/root.pem" "$@" "$PX$path"
}
hdr() { grep -i "^$1:" "$BATS_TEST_TMPDIR/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# sign_in NAME PASSWORD: prints the status; the session cookie value goes to $BATS_TEST_TMPDIR/sid
sign_in() {
	local st
	st=$(px /sign-in --data-urlencode "username=$1" --data-urlencode "password=$2")
	hdr Set-Cookie | sed -n 's/^X-Qlik-Session=\([^;]*\);.*/\1/p' >"$BATS_TEST_TMPDIR/sid"
	echo "$st"
}
sid() { cat "$BATS_TEST_TMPDIR/sid"; }

# qrs METHOD PATH SID [curl args]: the repository through the proxy with session SID
qrs() {
	local method=$1 path=$2 s=$3 sep='?'
	shift 3
	case "$path" in *\?*) sep='&' ;; esac
	px "$path${sep}xrfkey=$XRF" -X "$method" -b "X-Qlik-Session=$s" -H "X-Qlik-Xrfkey: $XRF" "$@"
}

@test "site create --admin makes a RootAdmin who signs in; the cookie is safe and only its hash is stored" {
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 303 ]
	[ "$(hdr Location)" = / ]
	cookie=$(hdr Set-Cookie)
	[[ "$cookie" == *"; Secure"* ]]; [[ "$cookie" == *"; HttpOnly"* ]]; [[ "$cookie" == *"SameSite=Lax"* ]]
	[ "${#cookie}" -gt 60 ]
	s=$(sid); [ "${#s}" = 43 ]
	[ "$(sql "SELECT count(*) FROM proxy_session WHERE id_hash = '$s'")" = 0 ]
	hash=$(printf '%s' "$s" | sha256sum | cut -d' ' -f1)
	[ "$(sql "SELECT count(*) FROM proxy_session WHERE id_hash = '$hash'")" = 1 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); expect 200 "$st"
	[ "$(jqb .userId)" = admin ]; [ "$(jqb .userDirectory)" = INTERNAL ]; [ "$(jqb .rootAdmin)" = true ]
	# with the hub built beside the binary, / goes there; without it, a plain landing page
	st=$(px / -b "X-Qlik-Session=$s")
	if [ -f "$(dirname "$FATHOM")/web/hub/index.html" ]; then
		[ "$st" = 302 ]; [ "$(hdr Location)" = /hub/ ]
	else
		[ "$st" = 200 ]; grep -q 'INTERNAL\\admin' "$(BODY_FILE)"
	fi
	st=$(px /sign-in); [ "$st" = 200 ]
	[[ "$(hdr Content-Security-Policy)" == *"frame-ancestors 'none'"* ]]
	# the password is stored as an Argon2id hash, never as given
	[[ "$(sql "SELECT hash FROM user_credential")" == '$argon2id$'* ]]
	! grep -rq "$ADMIN_PW" "$SITE/repository.db" "$SITE/logs" 2>/dev/null || on_postgres
}

@test "a wrong password and an unknown user get the same answer; the log names neither password" {
	st=$(sign_in admin 'wrong password 1'); [ "$st" = 401 ]
	wrong=$(grep -o 'class="error"[^<]*' "$(BODY_FILE)")
	st=$(sign_in nobody-at-all 'wrong password 2'); [ "$st" = 401 ]
	[ "$(grep -o 'class="error"[^<]*' "$(BODY_FILE)")" = "$wrong" ]
	grep -q 'value="nobody-at-all"' "$(BODY_FILE)"
	[ ! -s "$BATS_TEST_TMPDIR/sid" ]
	grep -q 'sign-in as "nobody-at-all" refused' "$SITE/logs/fathom.log"
	! grep -q 'wrong password' "$SITE/logs/fathom.log" || false
	# a form past 64 KiB is refused before it is read
	head -c 70000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
	st=$(px /sign-in --data-binary @"$BATS_TEST_TMPDIR/big"); [ "$st" = 413 ]
	# a name typed with markup comes back escaped
	st=$(sign_in '<b>x</b>' 'wrong password 3'); [ "$st" = 401 ]
	grep -q 'value="&lt;b&gt;x&lt;/b&gt;"' "$(BODY_FILE)"
}

@test "a signed-in person reaches the repository as themselves; X-Qlik-User from outside is ignored" {
	sign_in admin "$ADMIN_PW" >/dev/null; s=$(sid)
	st=$(qrs POST /qrs/stream "$s" -H 'Content-Type: application/json' \
		-H 'X-Qlik-User: UserDirectory=INTERNAL; UserId=sa_repository' --data '{"name":"ByAdmin"}')
	expect 201 "$st"
	[ "$(jqb .owner.userId)" = admin ]; [ "$(jqb .modifiedByUserName)" = 'INTERNAL\admin' ]
	# the xrfkey check still applies
	st=$(px /qrs/about -b "X-Qlik-Session=$s"); [ "$st" = 403 ]
	# and a client certificate at the proxy buys nothing without a session
	st=$(px "/qrs/about?xrfkey=$XRF" -H "X-Qlik-Xrfkey: $XRF" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem"); [ "$st" = 401 ]
}

@test "without a session the API answers 401 and a page sends the browser to sign in and back" {
	st=$(px "/qrs/about?xrfkey=$XRF" -H "X-Qlik-Xrfkey: $XRF"); [ "$st" = 401 ]
	st=$(px /qps/user); [ "$st" = 401 ]
	st=$(px /hub/stream/1); [ "$st" = 302 ]
	[ "$(hdr Location)" = "/sign-in?next=%2Fhub%2Fstream%2F1" ]
	st=$(px '/sign-in?next=/hub/stream/1'); [ "$st" = 200 ]
	grep -q 'name="next" value="/hub/stream/1"' "$(BODY_FILE)"
	st=$(px /sign-in --data-urlencode username=admin --data-urlencode "password=$ADMIN_PW" \
		--data-urlencode next=/hub/stream/1); [ "$st" = 303 ]
	[ "$(hdr Location)" = /hub/stream/1 ]
	# a target off the site is not followed
	st=$(px /sign-in --data-urlencode username=admin --data-urlencode "password=$ADMIN_PW" \
		--data-urlencode next=//evil.example/x); [ "$st" = 303 ]
	[ "$(hdr Location)" = / ]
	st=$(px '/sign-in?next=https://evil.example/'); [ "$st" = 200 ]
	! grep -q evil "$(BODY_FILE)" || false
	# a forged cookie is no session
	st=$(px /qps/user -b "X-Qlik-Session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); [ "$st" = 401 ]
}

@test "sign-out ends the session on the server, so the old cookie no longer works" {
	sign_in admin "$ADMIN_PW" >/dev/null; s=$(sid)
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]
	st=$(px /sign-out -X POST -b "X-Qlik-Session=$s"); [ "$st" = 303 ]
	[ "$(hdr Location)" = /sign-in ]
	[[ "$(hdr Set-Cookie)" == *"Max-Age=0"* ]]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	# DELETE /qps/user does the same for scripts
	sign_in admin "$ADMIN_PW" >/dev/null; s=$(sid)
	st=$(px /qps/user -X DELETE -b "X-Qlik-Session=$s"); [ "$st" = 204 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
}

@test "a session past its idle time ends and its row goes" {
	sign_in admin "$ADMIN_PW" >/dev/null; s=$(sid)
	hash=$(printf '%s' "$s" | sha256sum | cut -d' ' -f1)
	sql "UPDATE proxy_session SET last_seen = last_seen - 7200000 WHERE id_hash = '$hash'"
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	[ "$(sql "SELECT count(*) FROM proxy_session WHERE id_hash = '$hash'")" = 0 ]
}

@test "fathom user adds, lists, changes and removes people; a new password ends their sessions" {
	printf 'bob password 1\n' >"$BATS_TEST_TMPDIR/pw"
	run "$FATHOM" user add bob --dir "$SITE" --role ContentAdmin --password-file "$BATS_TEST_TMPDIR/pw"
	[ "$status" -eq 0 ]; [[ "$output" == *'added INTERNAL\bob'* ]]
	run "$FATHOM" user add bob --dir "$SITE" --password-file "$BATS_TEST_TMPDIR/pw"
	[ "$status" -eq 1 ]; [[ "$output" == *exists* ]]
	run "$FATHOM" user list --dir "$SITE"
	[ "$status" -eq 0 ]
	[[ "$(grep '^bob ' <<<"$output")" == *password*ContentAdmin* ]]
	[[ "$(grep '^admin ' <<<"$output")" == *RootAdmin* ]]
	st=$(sign_in bob 'bob password 1'); [ "$st" = 303 ]; s=$(sid)
	# a password too short is refused, from stdin as from a file
	run bash -c "echo short | '$FATHOM' user passwd bob --dir '$SITE'"
	[ "$status" -eq 1 ]; [[ "$output" == *"8 to 1024 characters"* ]]
	run bash -c "echo 'bob password 2' | '$FATHOM' user passwd bob --dir '$SITE'"
	[ "$status" -eq 0 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(sign_in bob 'bob password 1'); [ "$st" = 401 ]
	st=$(sign_in 'INTERNAL\bob' 'bob password 2'); [ "$st" = 303 ]; s=$(sid)
	run "$FATHOM" user remove bob --dir "$SITE"
	[ "$status" -eq 0 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(sign_in bob 'bob password 2'); [ "$st" = 401 ]
	run "$FATHOM" user remove bob --dir "$SITE"
	[ "$status" -eq 1 ]; [[ "$output" == *"no user"* ]]
	run "$FATHOM" user add "x'y" --dir "$SITE"
	[ "$status" -eq 2 ]
}

@test "the security rules govern a person: lists show what they may read, the rest is 403" {
	printf 'carol password\n' | "$FATHOM" user add carol --dir "$SITE" >/dev/null
	st=$(sign_in carol 'carol password'); [ "$st" = 303 ]; s=$(sid)
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]; [ "$(jqb .rootAdmin)" = false ]
	# a service (client certificate) makes an unpublished app, and one published to Everyone
	app_file "$BATS_TEST_TMPDIR/a.fapp" 0
	st=$(api POST "/qrs/app/upload?name=Hidden" --data-binary @"$BATS_TEST_TMPDIR/a.fapp"); expect 201 "$st"
	hidden=$(jqb .id)
	st=$(api POST "/qrs/app/upload?name=Shared" --data-binary @"$BATS_TEST_TMPDIR/a.fapp"); expect 201 "$st"
	shared=$(jqb .id)
	st=$(json POST /qrs/stream '{"name":"Everyone"}'); expect 201 "$st"; everyone=$(jqb .id)
	st=$(json POST /qrs/stream '{"name":"Finance"}'); expect 201 "$st"
	st=$(api PUT "/qrs/app/$shared/publish?stream=$everyone"); expect 200 "$st"
	# carol reads the published app and the Everyone stream, not the others
	st=$(qrs GET /qrs/app "$s"); expect 200 "$st"
	[ "$(jqb '[.[].name]|sort|join(",")')" = Shared ]
	st=$(qrs GET /qrs/app/full "$s"); expect 200 "$st"; [ "$(jqb '.[0].stream.name')" = Everyone ]
	st=$(qrs GET /qrs/app/count "$s"); expect 200 "$st"; [ "$(jqb .value)" = 1 ]
	st=$(qrs GET /qrs/stream "$s"); expect 200 "$st"; [ "$(jqb '[.[].name]|join(",")')" = Everyone ]
	st=$(qrs GET "/qrs/app/$hidden" "$s"); expect 403 "$st"
	st=$(qrs GET "/qrs/app/$shared" "$s"); expect 200 "$st"
	st=$(qrs DELETE "/qrs/app/$shared" "$s"); expect 403 "$st"
	st=$(qrs POST /qrs/stream "$s" -H 'Content-Type: application/json' --data '{"name":"Mine"}'); expect 403 "$st"
	# a folder connection reads files on the node's host: an administrator's right only
	st=$(qrs POST /qrs/dataconnection "$s" -H 'Content-Type: application/json' --data "{\"name\":\"Mine\",\"connectionstring\":\"$BATS_TEST_TMPDIR\"}"); expect 403 "$st"
	st=$(qrs GET /qrs/dataconnection "$s"); expect 200 "$st"; [ "$(jqb length)" = 0 ]
	st=$(qrs GET /qrs/user "$s"); expect 200 "$st"; [ "$(jqb '[.[].userId]|join(",")')" = carol ]
	st=$(qrs GET /qrs/systemrule "$s"); expect 200 "$st"; [ "$(jqb length)" = 0 ]
	st=$(qrs GET /qrs/servicestatus "$s"); expect 403 "$st"
	# she uploads an app of her own: she owns it, changes it and deletes it
	st=$(qrs POST "/qrs/app/upload?name=Carols" "$s" --data-binary @"$BATS_TEST_TMPDIR/a.fapp"); expect 201 "$st"
	mine=$(jqb .id); [ "$(jqb .owner.userId)" = carol ]
	st=$(qrs GET /qrs/app "$s"); [ "$(jqb '[.[].name]|sort|join(",")')" = Carols,Shared ]
	st=$(qrs POST "/qrs/app/$mine/copy?name=Copy" "$s"); expect 201 "$st"; copy=$(jqb .id)
	st=$(qrs POST "/qrs/app/$hidden/copy?name=Stolen" "$s"); expect 403 "$st"
	st=$(qrs DELETE "/qrs/app/$copy" "$s"); expect 204 "$st"
	# each of her changes and refusals is an audit line that names her; her reads are not
	log=$(cat "$SITE"/logs/fathom.log*)
	grep -qF "audit: DELETE /qrs/app/$copy 204 by INTERNAL\\carol" <<<"$log"
	grep -qF "audit: POST /qrs/app/$mine/copy 201 by INTERNAL\\carol" <<<"$log"
	grep -qF "audit: GET /qrs/app/$hidden 403 by INTERNAL\\carol" <<<"$log"
	grep -qF "audit: POST /qrs/app/$hidden/copy 403 by INTERNAL\\carol" <<<"$log"
	! grep -qF "audit: GET /qrs/app/$shared " <<<"$log" || false
	# the admin is governed too, and the RootAdmin rule grants everything
	sign_in admin "$ADMIN_PW" >/dev/null; a=$(sid)
	st=$(qrs GET /qrs/app/count "$a"); [ "$(jqb .value)" -ge 3 ]
	st=$(qrs GET /qrs/servicestatus "$a"); expect 200 "$st"
	st=$(qrs POST /qrs/dataconnection "$a" -H 'Content-Type: application/json' --data "{\"name\":\"Admins\",\"connectionstring\":\"$BATS_TEST_TMPDIR\"}"); expect 201 "$st"
	# a rule edit takes effect at the next request: disable the Everyone rule
	rule=$(sql "SELECT id FROM systemrule WHERE name = 'EveryoneStream'")
	st=$(api GET "/qrs/systemrule/$rule"); expect 200 "$st"
	body=$(jq -c '.disabled = true' "$(BODY_FILE)")
	st=$(json PUT "/qrs/systemrule/$rule" "$body"); expect 200 "$st"
	st=$(qrs GET /qrs/app "$s"); [ "$(jqb '[.[].name]|join(",")')" = Carols ]
	st=$(api GET "/qrs/systemrule/$rule"); expect 200 "$st"
	st=$(json PUT "/qrs/systemrule/$rule" "$(jq -c '.disabled = false' "$(BODY_FILE)")"); expect 200 "$st"
	st=$(qrs GET /qrs/app "$s"); [ "$(jqb '[.[].name]|sort|join(",")')" = Carols,Shared ]
	# an inactive user's session ends at once
	sql "UPDATE users SET inactive = 1 WHERE user_id = 'carol'"
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(sign_in carol 'carol password'); [ "$st" = 401 ]
}

@test "cross-site requests and WebSockets are refused; the engine is reached through the proxy" {
	sign_in admin "$ADMIN_PW" >/dev/null; s=$(sid)
	st=$(px /sign-out -X POST -b "X-Qlik-Session=$s" -H 'Origin: https://evil.example'); [ "$st" = 403 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]
	st=$(px /sign-in -H 'Origin: https://evil.example' --data-urlencode username=admin \
		--data-urlencode "password=$ADMIN_PW"); [ "$st" = 403 ]
	ws=(-m 3 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -b "X-Qlik-Session=$s")
	st=$(px /app/ "${ws[@]}" -H 'Origin: https://evil.example') || true; [ "$st" = 403 ]
	st=$(px /app/ "${ws[@]}" -H "Origin: https://localhost:$PXP") || true; [ "$st" = 101 ]
	st=$(px /app/ "${ws[@]:0:10}") || true; [ "$st" = 401 ]
}

# qps METHOD PATH [curl args]: the proxy API with the site's client certificate and an xrfkey
qps() {
	local method=$1 path=$2 sep='?'
	shift 2
	case "$path" in *\?*) sep='&' ;; esac
	curl -s -o "$(BODY_FILE)" -w '%{http_code}' -X "$method" --cacert "$SITE/certs/root.pem" \
		--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
		-H 'Content-Type: application/json' "$@" "$QPS$path${sep}xrfkey=$XRF"
}

@test "a portal gets a one-time ticket with the site's certificate; the browser redeems it once" {
	st=$(qps POST /qps/ticket --data '{"UserDirectory":" CORP ","UserId":"jane","Attributes":[{"group":"Sales"}]}')
	expect 201 "$st"
	[ "$(jqb .UserDirectory)" = CORP ]; [ "$(jqb '.Attributes[0].group')" = Sales ]
	t=$(jqb .Ticket); [ "${#t}" = 32 ]
	[ "$(sql "SELECT count(*) FROM proxy_ticket WHERE id_hash = '$t'")" = 0 ]
	# redeemed on any page: a session, and on to the page without the ticket
	st=$(px "/hub/stream/x?a=1&qlikTicket=$t"); [ "$st" = 302 ]
	[ "$(hdr Location)" = "/hub/stream/x?a=1" ]
	s=$(hdr Set-Cookie | sed -n 's/^X-Qlik-Session=\([^;]*\);.*/\1/p')
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]
	[ "$(jqb .userDirectory)" = CORP ]; [ "$(jqb .userId)" = jane ]
	[ "$(sql "SELECT count(*) FROM users WHERE user_directory = 'CORP' AND user_id = 'jane'")" = 1 ]
	# once only, and not after a minute
	st=$(px "/?qlikTicket=$t"); expect 403 "$st"
	grep -q "a ticket was refused" "$SITE/logs/fathom.log"
	st=$(qps POST /qps/ticket --data '{"UserDirectory":"CORP","UserId":"jane"}'); expect 201 "$st"
	late=$(jqb .Ticket)
	sql "UPDATE proxy_ticket SET expires_at = 0"
	st=$(px "/?qlikTicket=$late"); [ "$st" = 403 ]
	st=$(px "/?qlikTicket=forged"); [ "$st" = 403 ]
	# jane is governed by the rules like anyone signed in
	st=$(qrs GET /qrs/systemrule "$s"); expect 200 "$st"; [ "$(jqb length)" = 0 ]
	# the sessions of a user, and ending them
	st=$(qps GET /qps/user/corp/JANE); expect 200 "$st"
	[ "$(jqb length)" = 1 ]; [ "$(jqb '.[0].Attributes[0].group')" = Sales ]
	st=$(qps GET "/qps/session/$s"); expect 200 "$st"; [ "$(jqb .SessionId)" = "$s" ]
	st=$(qps DELETE /qps/user/CORP/jane); expect 200 "$st"; [ "$(jqb length)" = 1 ]
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(qps GET "/qps/session/$s"); expect 404 "$st"
}

@test "the proxy API adds sessions made elsewhere, and refuses callers without the certificate or xrfkey" {
	st=$(qps POST /qps/session --data '{"UserDirectory":"CORP","UserId":"joe","SessionId":"portal-made-session-0001"}')
	expect 201 "$st"
	st=$(px /qps/user -b "X-Qlik-Session=portal-made-session-0001"); [ "$st" = 200 ]; [ "$(jqb .userId)" = joe ]
	st=$(qps POST /qps/session --data '{"UserDirectory":"CORP","UserId":"joe","SessionId":"portal-made-session-0001"}')
	expect 409 "$st"
	st=$(qps DELETE /qps/session/portal-made-session-0001); expect 200 "$st"; [ "$(jqb .UserId)" = joe ]
	st=$(px /qps/user -b "X-Qlik-Session=portal-made-session-0001"); [ "$st" = 401 ]
	# bad bodies
	st=$(qps POST /qps/ticket --data '{"UserDirectory":"A\\B","UserId":"x"}'); expect 400 "$st"
	st=$(qps POST /qps/ticket --data '{"UserDirectory":"  ","UserId":"x"}'); expect 400 "$st"
	st=$(qps POST /qps/ticket --data '{"UserDirectory":"D","UserId":"x","Attributes":[1]}'); expect 400 "$st"
	st=$(qps POST /qps/ticket --data 'not json'); expect 400 "$st"
	st=$(qps POST /qps/session --data '{"UserDirectory":"D","UserId":"x","SessionId":"short"}'); expect 400 "$st"
	st=$(qps POST /qps/other/ticket --data '{"UserDirectory":"D","UserId":"x"}'); expect 404 "$st"
	# no certificate, or no xrfkey
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" -H "X-Qlik-Xrfkey: $XRF" \
		-X POST --data '{"UserDirectory":"D","UserId":"x"}' "$QPS/qps/ticket?xrfkey=$XRF"); [ "$st" = 403 ]
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem" -X POST --data '{"UserDirectory":"D","UserId":"x"}' "$QPS/qps/ticket"); [ "$st" = 403 ]
}

@test "plain HTTP is sent to HTTPS" {
	st=$(curl -s -o /dev/null -D "$BATS_TEST_TMPDIR/h" -w '%{http_code}' "http://localhost:$PLAIN/hub/x?y=1")
	[ "$st" = 308 ]
	[ "$(hdr Location)" = "https://localhost:$PXP/hub/x" ]
	st=$(curl -s -o /dev/null -D "$BATS_TEST_TMPDIR/h" -w '%{http_code}' -H 'Host: evil"host' "http://localhost:$PLAIN/")
	[ "$st" = 308 ]; [ "$(hdr Location)" = "https://localhost:$PXP/" ]
}

@test "/health answers load balancers on both ports without signing in; 503 names the share when it cannot be used" {
	st=$(px /health)
	[ "$st" = 200 ]; [ "$(jqb -c .)" = '{"status":"ok"}' ]; [ "$(hdr Cache-Control)" = no-store ]
	st=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' "http://localhost:$PLAIN/health")
	[ "$st" = 200 ]; [ "$(jqb .status)" = ok ]
	mv "$SHARE/Apps" "$SHARE/Apps.away"
	st=$(px /health) || true
	mv "$SHARE/Apps.away" "$SHARE/Apps"
	[ "$st" = 503 ]; [ "$(jqb .status)" = unavailable ]
	[[ "$(jqb .reason)" == *"app folder $SHARE/Apps cannot be used"* ]]
	[ "$(px /health)" = 200 ]
	[ "$(px /health -X POST)" != 200 ] # only GET and HEAD
}

@test "ten failures in a row lock a name on the site, even for the right password, and unknown names alike" {
	FROM=127.0.0.3
	printf 'dave password\n' | "$FATHOM" user add dave --dir "$SITE" >/dev/null
	for i in $(seq 1 10); do st=$(sign_in dave "nope $i"); [ "$st" = 401 ]; done
	st=$(sign_in dave 'dave password'); [ "$st" = 429 ]
	FROM=127.0.0.5 # (twenty failures from one address would block the address)
	for i in $(seq 1 10); do st=$(sign_in ghost "nope $i"); [ "$st" = 401 ]; done
	st=$(sign_in ghost 'anything at all'); [ "$st" = 429 ]
	sql "UPDATE signin_failure SET locked_until = 0"
	st=$(sign_in dave 'dave password'); [ "$st" = 303 ]
	[ "$(sql "SELECT count(*) FROM signin_failure WHERE name_key = 'internal\\dave'")" = 0 ]
}

@test "twenty failures from one address make it wait, whatever the names; other addresses go on" {
	FROM=127.0.0.2
	for i in $(seq 1 20); do st=$(sign_in "someone$i" 'nope nope'); [ "$st" = 401 ]; done
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 429 ]
	grep -q "Too many failed sign-ins" "$(BODY_FILE)"
	grep -q "127.0.0.2: sign-in as \"admin\" refused: too many failures" "$SITE/logs/fathom.log"
	FROM=127.0.0.4
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 303 ]
}

# vproxy JSON: creates a virtual proxy through the repository (client certificate); prints its id
vproxy() {
	st=$(json POST /qrs/virtualproxyconfig "$1"); expect 201 "$st" >&2
	jqb .id
}

# eventually STATUS CMD...: runs CMD (px, qps, ...) until it prints STATUS, for up to 3 s
# (a change reaches the proxy within 2 s)
eventually() {
	local want=$1
	shift
	for _ in $(seq 1 30); do [ "$("$@")" = "$want" ] && return 0; sleep 0.1; done
	return 1
}

@test "a virtual proxy with a prefix signs in on its own, with its cookie and headers; changes apply without a restart" {
	id=$(vproxy '{"prefix":"sales","description":"Sales","authenticationMethod":"Form","sessionCookieHeaderName":"X-Qlik-Session-sales","sessionInactivityTimeout":5,"additionalResponseHeaders":"X-Frame-Options: DENY\nX-Team: sales"}')
	eventually 200 px /sales/sign-in
	grep -q 'action="/sales/sign-in"' "$(BODY_FILE)"
	[ "$(hdr X-Team)" = sales ]
	st=$(px /sales/sign-in --data-urlencode username=admin --data-urlencode "password=$ADMIN_PW"); [ "$st" = 303 ]
	[ "$(hdr Location)" = /sales/ ]
	s=$(hdr Set-Cookie | sed -n 's/^X-Qlik-Session-sales=\([^;]*\);.*/\1/p'); [ "${#s}" = 43 ]
	st=$(px /sales/qps/user -b "X-Qlik-Session-sales=$s"); [ "$st" = 200 ]; [ "$(jqb .virtualProxy)" = sales ]
	st=$(px "/sales/qrs/about?xrfkey=$XRF" -H "X-Qlik-Xrfkey: $XRF" -b "X-Qlik-Session-sales=$s"); expect 200 "$st"
	# the session is this virtual proxy's only
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(px /sales/qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	# its inactivity time-out is its own: 5 minutes
	hash=$(printf '%s' "$s" | sha256sum | cut -d' ' -f1)
	sql "UPDATE proxy_session SET last_seen = last_seen - 360000 WHERE id_hash = '$hash'"
	st=$(px /sales/qps/user -b "X-Qlik-Session-sales=$s"); [ "$st" = 401 ]
	# removed, its prefix is an ordinary path of the default virtual proxy again
	st=$(api DELETE "/qrs/virtualproxyconfig/$id"); expect 204 "$st"
	eventually 302 px /sales/sign-in
	[ "$(hdr Location)" = "/sign-in?next=%2Fsales%2Fsign-in" ]
}

@test "header authentication takes the user from a trusted front end only" {
	vproxy '{"prefix":"sso","description":"SSO","authenticationMethod":"HeaderStaticUserDirectory","headerAuthenticationHeaderName":"X-Portal-User","headerAuthenticationStaticUserDirectory":"CORP","headerAuthenticationTrustedAddresses":["127.0.0.7"]}' >/dev/null
	vproxy '{"prefix":"sso2","description":"SSO 2","authenticationMethod":"HeaderDynamicUserDirectory","headerAuthenticationHeaderName":"X-Portal-User","headerAuthenticationTrustedAddresses":["127.0.0.7"]}' >/dev/null
	FROM=127.0.0.7
	eventually 200 px /sso/qps/user -H 'X-Portal-User: max'
	[ "$(jqb .userDirectory)" = CORP ]; [ "$(jqb .userId)" = max ]; [ "$(jqb .virtualProxy)" = sso ]
	[[ "$(hdr Set-Cookie)" == X-Qlik-Session=* ]]
	st=$(px /sso2/qps/user -H 'X-Portal-User: EMEA\mia'); [ "$st" = 200 ]
	[ "$(jqb .userDirectory)" = EMEA ]; [ "$(jqb .userId)" = mia ]
	st=$(px /sso2/qps/user -H 'X-Portal-User: nodirectory'); [ "$st" = 400 ]
	st=$(px /sso/qps/user); [ "$st" = 401 ]
	st=$(px /sso/hub); [ "$st" = 401 ]
	# the same header from anywhere else is refused and logged
	FROM=127.0.0.1
	st=$(px /sso/qps/user -H 'X-Portal-User: max'); [ "$st" = 403 ]
	grep -q "127.0.0.1: header X-Portal-User from an address the virtual proxy does not trust" "$SITE/logs/fathom.log"
	# and the default virtual proxy takes no header at all
	st=$(px /qps/user -H 'X-Portal-User: max'); [ "$st" = 401 ]
}

@test "a ticket is good only at the virtual proxy it was made for; a ticket proxy sends strangers to its portal" {
	vproxy '{"prefix":"portal","description":"Portal","authenticationMethod":"Ticket","authenticationModuleRedirectUri":"https://portal.example/login"}' >/dev/null
	eventually 201 qps POST /qps/portal/ticket --data '{"UserDirectory":"CORP","UserId":"ann"}'
	t=$(jqb .Ticket)
	st=$(px "/?qlikTicket=$t"); expect 403 "$st"
	st=$(px "/portal/hub?qlikTicket=$t"); [ "$st" = 302 ]; [ "$(hdr Location)" = /portal/hub ]
	s=$(hdr Set-Cookie | sed -n 's/^X-Qlik-Session=\([^;]*\);.*/\1/p')
	st=$(px /portal/qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]; [ "$(jqb .userId)" = ann ]
	st=$(qps GET /qps/portal/user/CORP/ann); expect 200 "$st"; [ "$(jqb length)" = 1 ]
	st=$(qps GET /qps/user/CORP/ann); expect 200 "$st"; [ "$(jqb length)" = 0 ]
	st=$(px /portal/hub); [ "$st" = 302 ]
	[ "$(hdr Location)" = "https://portal.example/login?targetId=%2Fportal%2Fhub" ]
	st=$(qps POST /qps/nosuch/ticket --data '{"UserDirectory":"CORP","UserId":"ann"}'); expect 404 "$st"
}

@test "a JWT virtual proxy takes signed tokens (RS256, ES256, HS256) and refuses forged, expired and misdirected ones" {
	local k=$BATS_TEST_TMPDIR JWT="node $BATS_TEST_DIRNAME/jwt.js"
	openssl genrsa -out "$k/rsa.pem" 2048 2>/dev/null; openssl rsa -in "$k/rsa.pem" -pubout -out "$k/rsa.pub" 2>/dev/null
	openssl genrsa -out "$k/other.pem" 2048 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$k/ec.pem"; openssl ec -in "$k/ec.pem" -pubout -out "$k/ec.pub" 2>/dev/null
	vproxy "$(jq -nc --rawfile key "$k/rsa.pub" '{prefix:"jwt",description:"JWT",authenticationMethod:"JWT",jwtPublicKeyCertificate:$key,jwtAttributeUserDirectory:"[CORP]",jwtAudience:"fathom",jwtIssuer:"https://idp.example"}')" >/dev/null
	vproxy "$(jq -nc --rawfile key "$k/ec.pub" '{prefix:"jwtec",description:"JWT EC",authenticationMethod:"JWT",jwtPublicKeyCertificate:$key,jwtAttributeUserId:"email",jwtAttributeUserDirectory:"dir"}')" >/dev/null
	vproxy '{"prefix":"jwths","description":"JWT HS","authenticationMethod":"JWT","jwtPublicKeyCertificate":"a shared secret of thirty-two bytes","jwtAttributeUserDirectory":"[PARTNERS]"}' >/dev/null
	now=$(date +%s)
	good="{\"sub\":\"zoe\",\"aud\":\"fathom\",\"iss\":\"https://idp.example\",\"exp\":$((now + 300))}"
	tok=$($JWT RS256 "$k/rsa.pem" "$good")
	eventually 200 px /jwt/qps/user -H "Authorization: Bearer $tok"
	[ "$(jqb .userDirectory)" = CORP ]; [ "$(jqb .userId)" = zoe ]
	s=$(hdr Set-Cookie | sed -n 's/^X-Qlik-Session=\([^;]*\);.*/\1/p'); [ -n "$s" ]
	st=$(px /jwt/qps/user -b "X-Qlik-Session=$s"); [ "$st" = 200 ]
	# refused: expired, not yet valid, no expiry, another audience or issuer, another key,
	# a changed claim, the RSA public key used as an HMAC secret, no signature at all
	bad=(
		"$($JWT RS256 "$k/rsa.pem" "{\"sub\":\"zoe\",\"aud\":\"fathom\",\"iss\":\"https://idp.example\",\"exp\":$((now - 120))}")"
		"$($JWT RS256 "$k/rsa.pem" "{\"sub\":\"zoe\",\"aud\":\"fathom\",\"iss\":\"https://idp.example\",\"exp\":$((now + 300)),\"nbf\":$((now + 300))}")"
		"$($JWT RS256 "$k/rsa.pem" '{"sub":"zoe","aud":"fathom","iss":"https://idp.example"}')"
		"$($JWT RS256 "$k/rsa.pem" "{\"sub\":\"zoe\",\"aud\":\"other\",\"iss\":\"https://idp.example\",\"exp\":$((now + 300))}")"
		"$($JWT RS256 "$k/rsa.pem" "{\"sub\":\"zoe\",\"aud\":\"fathom\",\"iss\":\"https://evil.example\",\"exp\":$((now + 300))}")"
		"$($JWT RS256 "$k/other.pem" "$good")"
		"$(echo "$tok" | awk -F. -v p="$(printf '%s' "${good/zoe/root}" | base64 -w0 | tr '+/' '-_' | tr -d '=')" '{print $1 "." p "." $3}')"
		"$($JWT HS256 "$(cat "$k/rsa.pub")" "$good" '{"alg":"HS256"}')"
		"$($JWT none x "$good" '{"alg":"none"}')"
		"$($JWT RS256 "$k/rsa.pem" "{\"sub\":\"x; UserId=admin\",\"aud\":\"fathom\",\"iss\":\"https://idp.example\",\"exp\":$((now + 300))}")"
		"not.a.token"
	)
	for b in "${bad[@]}"; do
		st=$(px /jwt/qps/user -H "Authorization: Bearer $b"); [ "$st" = 401 ]
		[[ "$(hdr WWW-Authenticate)" == Bearer* ]]
	done
	grep -q "a token was refused: the token has expired" "$SITE/logs/fathom.log"
	grep -q "a token was refused: the token is for another audience" "$SITE/logs/fathom.log"
	! grep -qF "$tok" "$SITE/logs/fathom.log" || false
	st=$(px /jwt/qps/user); [ "$st" = 401 ]
	# ES256, the directory from a claim; HS256 with a shared secret
	tok=$($JWT ES256 "$k/ec.pem" "{\"email\":\"ada@corp\",\"dir\":\"EMEA\",\"exp\":$((now + 300))}")
	eventually 200 px /jwtec/qps/user -H "Authorization: Bearer $tok"
	[ "$(jqb .userDirectory)" = EMEA ]; [ "$(jqb .userId)" = ada@corp ]
	tok=$($JWT HS256 "a shared secret of thirty-two bytes" "{\"sub\":\"pat\",\"exp\":$((now + 300))}")
	eventually 200 px /jwths/qps/user -H "Authorization: Bearer $tok"
	[ "$(jqb .userDirectory)" = PARTNERS ]
	# a token for one virtual proxy is nothing at the default one
	st=$(px /qps/user -H "Authorization: Bearer $tok"); [ "$st" = 401 ]
}

# idp_up: the test identity provider (tests/idp, oidc-provider from npm) on loopback, with a
# certificate of its own for 127.0.0.1 ($IDP_CA); $IDP is its discovery address.
idp_up() {
	local d=$BATS_TEST_TMPDIR port try
	[ -d "$BATS_TEST_DIRNAME/../idp/node_modules/oidc-provider" ] ||
		skip "tests/idp has no node_modules (scripts/deps.sh runs npm ci there)"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$d/idp.key" -out "$d/idp.pem" 2>/dev/null
	export IDP_CA=$d/idp.pem IDP_SECRET='the client secret of the test provider'
	# Node loads the provider's modules first: seconds on a busy machine. Twice in make check
	# a provider printed its first warning and then nothing for a minute (cause not found
	# yet: the same start takes under a second here); such a one is killed and another
	# started on another port, its output kept in idp.out.N.
	for try in 1 2 3; do
		port=$(free_port)
		node "$BATS_TEST_DIRNAME/../idp/idp.mjs" --port "$port" --cert "$d/idp.pem" --key "$d/idp.key" \
			--secret "$IDP_SECRET" --redirect "$PX/oidc/oidc/callback" --redirect "$PX/oidcec/oidc/callback" \
			--redirect "$PX/oidcbad/oidc/callback" \
			>"$d/idp.out" 2>&1 3>&- &
		echo $! >"$d/idp.pid"
		for _ in $(seq 300); do grep -q '^ready' "$d/idp.out" && break; sleep 0.1; done
		grep -q '^ready' "$d/idp.out" && break
		echo "the test provider did not start in 30 s (try $try); its output:" >&2
		cat "$d/idp.out" >&2
		cp "$d/idp.out" "$d/idp.out.$try"
		idp_down
	done
	grep -q '^ready' "$d/idp.out" || return 1
	export IDP=https://127.0.0.1:$port/.well-known/openid-configuration
}
idp_down() {
	[ -f "$BATS_TEST_TMPDIR/idp.pid" ] || return 0
	kill "$(cat "$BATS_TEST_TMPDIR/idp.pid")" 2>/dev/null || true
	rm -f "$BATS_TEST_TMPDIR/idp.pid"
}

# oidc_sign_in PREFIX USER: a browser's way through the provider (curl with one cookie jar
# for both sites). Prints the status of the proxy's last answer; the page it asked for is in
# $BATS_TEST_TMPDIR/first (headers) and the session cookie in the jar.
oidc_sign_in() {
	local d=$BATS_TEST_TMPDIR jar=$BATS_TEST_TMPDIR/jar.$1
	rm -f "$jar"
	curl -s -o /dev/null -D "$d/first" -c "$jar" -b "$jar" --cacert "$SITE/certs/root.pem" "$PX/$1/hub/x"
	local auth; auth=$(grep -i '^Location:' "$d/first" | cut -d' ' -f2- | tr -d '\r')
	# the provider's sign-in page, then its form
	local form; form=$(curl -s -L -c "$jar" -b "$jar" --cacert "$IDP_CA" -o /dev/null -w '%{url_effective}' "$auth")
	curl -s -o /dev/null -D "$d/last" -w '%{http_code}' -c "$jar" -b "$jar" --cacert "$IDP_CA" \
		--data-urlencode "login=$2" "$form" >"$d/st"
	# the provider answers with its resume address, which sends the browser to the proxy
	local next; next=$(grep -i '^Location:' "$d/last" | cut -d' ' -f2- | tr -d '\r')
	while [[ "$next" == https://127.0.0.1:* ]]; do
		curl -s -o /dev/null -D "$d/last" -c "$jar" -b "$jar" --cacert "$IDP_CA" "$next"
		next=$(grep -i '^Location:' "$d/last" | cut -d' ' -f2- | tr -d '\r')
	done
	echo "$next" >"$d/callback"
	[ -n "$next" ] || { echo 0; return; }
	curl -s -o "$(BODY_FILE)" -D "$d/h" -w '%{http_code}' -c "$jar" -b "$jar" --cacert "$SITE/certs/root.pem" "$next"
}
jar_session() { awk -v n="$2" '$6 == n { print $7 }' "$BATS_TEST_TMPDIR/jar.$1"; }

@test "an OIDC virtual proxy signs people in at a real provider (code flow with PKCE), with their name and groups" {
	idp_up
	vproxy "$(jq -nc --arg url "$IDP" --arg secret "$IDP_SECRET" --rawfile ca "$IDP_CA" \
		'{prefix:"oidc",description:"OIDC",authenticationMethod:"OIDC",sessionCookieHeaderName:"X-Qlik-Session-oidc",oidcConfigurationEndpointUri:$url,oidcClientId:"fathom",oidcClientSecret:$secret,oidcRealm:"CORP",oidcScope:"openid profile email groups",oidcCaCertificate:$ca}')" >/dev/null
	vproxy "$(jq -nc --arg url "$IDP" --arg secret "$IDP_SECRET" --rawfile ca "$IDP_CA" \
		'{prefix:"oidcec",description:"OIDC EC",authenticationMethod:5,sessionCookieHeaderName:"X-Qlik-Session-oidcec",oidcConfigurationEndpointUri:$url,oidcClientId:"fathom-ec",oidcClientSecret:$secret,oidcCaCertificate:$ca}')" >/dev/null
	# the secret is never shown back; the method is QRS's number 5
	st=$(api GET "/qrs/virtualproxyconfig/full?filter=prefix%20eq%20'oidc'"); expect 200 "$st"
	[ "$(jqb '.[0].authenticationMethod')" = 5 ]; [ "$(jqb '.[0] | has("oidcClientSecret")')" = false ]
	sleep 1.2
	st=$(oidc_sign_in oidc alice); [ "$st" = 302 ]
	# the way out carried a PKCE challenge, a state and a nonce, and set the flow's cookie
	loc=$(grep -i '^Location:' "$BATS_TEST_TMPDIR/first")
	[[ "$loc" == *"code_challenge_method=S256"* ]]; [[ "$loc" == *"&state="* ]]; [[ "$loc" == *"&nonce="* ]]
	[[ "$loc" == *"redirect_uri=https%3A%2F%2Flocalhost%3A$PXP%2Foidc%2Foidc%2Fcallback"* ]]
	grep -qi '^Set-Cookie: X-Qlik-Session-oidc-oidc=.*HttpOnly' "$BATS_TEST_TMPDIR/first"
	# back at the page asked for, signed in as CORP\alice
	[ "$(hdr Location)" = /oidc/hub/x ]
	s=$(jar_session oidc X-Qlik-Session-oidc); [ "${#s}" = 43 ]
	st=$(px /oidc/qps/user -b "X-Qlik-Session-oidc=$s"); expect 200 "$st"
	[ "$(jqb .userDirectory)" = CORP ]; [ "$(jqb .userId)" = alice ]
	# the user entity has the provider's name; the groups went with the session
	[ "$(sql "SELECT name FROM users WHERE user_directory = 'CORP' AND user_id = 'alice'")" = 'Alice Example' ]
	hash=$(printf '%s' "$s" | sha256sum | cut -d' ' -f1)
	attrs=$(sql "SELECT attributes FROM proxy_session WHERE id_hash = '$hash'")
	[[ "$attrs" == *'{"group":"finance"}'* ]]; [[ "$attrs" == *'{"email":"alice@example.com"}'* ]]
	# a group in a security rule: finance reads the stream Ledger, sales does not
	st=$(json POST /qrs/stream '{"name":"Ledger"}'); expect 201 "$st"
	st=$(json POST /qrs/systemrule '{"name":"FinanceLedger","category":"Security","type":"Custom","rule":"user.group = \"finance\" and resource.name = \"Ledger\"","resourceFilter":"Stream_*","actions":2}')
	expect 201 "$st"
	st=$(px "/oidc/qrs/stream?xrfkey=$XRF" -H "X-Qlik-Xrfkey: $XRF" -b "X-Qlik-Session-oidc=$s"); expect 200 "$st"
	[ "$(jqb '[.[] | select(.name == "Ledger")] | length')" = 1 ]
	# the groups are kept with the user, as QRS's user attributes
	st=$(api GET "/qrs/user/full?filter=userId%20eq%20'alice'"); expect 200 "$st"
	[ "$(jqb -c '[.[0].attributes[] | select(.attributeType == "group") | .attributeValue]')" = '["finance","analysts"]' ]
	# and read by the rules for a session that carries none: dora signs in with a password
	printf 'dora password\n' | "$FATHOM" user add dora --dir "$SITE" >/dev/null
	st=$(api GET "/qrs/user/full?filter=userId%20eq%20'dora'"); expect 200 "$st"
	cid=$(jqb '.[0].id'); md=$(jqb '.[0].modifiedDate')
	st=$(json PUT "/qrs/user/$cid" "{\"modifiedDate\":\"$md\",\"attributes\":[{\"attributeType\":\"group\"}]}"); expect 400 "$st"
	st=$(json PUT "/qrs/user/$cid" "{\"modifiedDate\":\"$md\",\"attributes\":[{\"attributeType\":\"group\",\"attributeValue\":\"finance\",\"externalId\":\"\"}]}")
	expect 200 "$st"
	sign_in dora 'dora password' >/dev/null; c=$(sid)
	st=$(qrs GET /qrs/stream "$c"); expect 200 "$st"
	[ "$(jqb '[.[] | select(.name == "Ledger")] | length')" = 1 ]
	# ES256 ID tokens and the secret in the form body; bob is in sales, not finance
	st=$(oidc_sign_in oidcec bob); [ "$st" = 302 ]
	b=$(jar_session oidcec X-Qlik-Session-oidcec)
	st=$(px /oidcec/qps/user -b "X-Qlik-Session-oidcec=$b"); expect 200 "$st"
	[ "$(jqb .userDirectory)" = OIDC ]; [ "$(jqb .userId)" = bob ]
	st=$(px "/oidcec/qrs/stream?xrfkey=$XRF" -H "X-Qlik-Xrfkey: $XRF" -b "X-Qlik-Session-oidcec=$b"); expect 200 "$st"
	[ "$(jqb '[.[] | select(.name == "Ledger")] | length')" = 0 ]
	# the callback once more (a replayed code) is refused, even with the flow's cookie kept
	# (a browser drops it at the first callback; curl keeps it)
	st=$(curl -s -o "$(BODY_FILE)" -w '%{http_code}' -b "$BATS_TEST_TMPDIR/jar.oidcec" --cacert "$SITE/certs/root.pem" "$(cat "$BATS_TEST_TMPDIR/callback")")
	expect 403 "$st"
	grep -q "OpenID Connect sign-in refused: .* answered 400: invalid_grant" "$SITE/logs/fathom.log"
	! grep -qF "$IDP_SECRET" "$SITE/logs/fathom.log" || false
}

@test "an OIDC callback that this browser did not start, a wrong secret and a provider that is down are refused" {
	idp_up
	vproxy "$(jq -nc --arg url "$IDP" --rawfile ca "$IDP_CA" \
		'{prefix:"oidcbad",description:"OIDC bad",authenticationMethod:"OIDC",oidcConfigurationEndpointUri:$url,oidcClientId:"fathom",oidcClientSecret:"not the secret",oidcCaCertificate:$ca}')" >/dev/null
	sleep 1.2
	# the attacker's own callback (code and state) sent to someone else's browser
	st=$(oidc_sign_in oidcbad alice); [ "$st" = 403 ]
	grep -q "OpenID Connect sign-in refused: .* answered 401: invalid_client" "$SITE/logs/fathom.log"
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" "$(cat "$BATS_TEST_TMPDIR/callback")")
	[ "$st" = 403 ]
	grep -q "callback that this browser did not start" "$SITE/logs/fathom.log"
	st=$(px '/oidcbad/oidc/callback?error=access_denied&state=x'); [ "$st" = 401 ]
	# a provider without the CA to trust it: the proxy says it cannot reach it
	id=$(api GET "/qrs/virtualproxyconfig?filter=prefix%20eq%20'oidcbad'" >/dev/null; jqb '.[0].id')
	st=$(api GET "/qrs/virtualproxyconfig/$id"); expect 200 "$st"
	cp "$(BODY_FILE)" "$BATS_TEST_TMPDIR/vp.json"
	body=$(jq -c '.oidcCaCertificate = "" | .oidcConfigurationEndpointUri = "https://127.0.0.1:1/.well-known/openid-configuration"' "$BATS_TEST_TMPDIR/vp.json")
	st=$(json PUT "/qrs/virtualproxyconfig/$id" "$body"); expect 200 "$st"
	sleep 1.2
	st=$(px /oidcbad/hub/); [ "$st" = 502 ]
	grep -q "OpenID Connect provider https://127.0.0.1:1/" "$SITE/logs/fathom.log"
	# an address that is not https:// is refused when saved
	body=$(jq -c '.oidcConfigurationEndpointUri = "http://idp.example/"' "$BATS_TEST_TMPDIR/vp.json")
	st=$(json PUT "/qrs/virtualproxyconfig/$id" "$body"); expect 400 "$st"
}

@test "the repository API makes people: POST /qrs/user, then PUT /qrs/user/{id}/password" {
	st=$(json POST /qrs/user '{"userId":"eve","userDirectory":"INTERNAL","name":"Eve"}'); expect 201 "$st"
	eve=$(jqb .id)
	st=$(json PUT "/qrs/user/$eve/password" '{"password":"eve password 1"}'); expect 204 "$st"
	st=$(sign_in eve 'eve password 1'); [ "$st" = 303 ]; s=$(sid)
	st=$(json PUT "/qrs/user/$eve/password" '{"password":"short"}'); expect 400 "$st"
	st=$(json PUT "/qrs/user/$eve/password" '{}'); expect 400 "$st"
	# eve may not set anyone's password, her own included (no rule grants her update)
	st=$(qrs PUT "/qrs/user/$eve/password" "$s" -H 'Content-Type: application/json' --data '{"password":"eve password 2"}')
	expect 403 "$st"
	# an administrator through the proxy may; eve's sessions end
	sign_in admin "$ADMIN_PW" >/dev/null; a=$(sid)
	st=$(qrs PUT "/qrs/user/$eve/password" "$a" -H 'Content-Type: application/json' --data '{"password":"eve password 3"}')
	expect 204 "$st"
	st=$(px /qps/user -b "X-Qlik-Session=$s"); [ "$st" = 401 ]
	st=$(sign_in eve 'eve password 3'); [ "$st" = 303 ]
	# only the INTERNAL directory has passwords
	st=$(json POST /qrs/user '{"userId":"ext","userDirectory":"CORP"}'); expect 201 "$st"
	st=$(json PUT "/qrs/user/$(jqb .id)/password" '{"password":"ext password"}'); expect 400 "$st"
	grep -q 'INTERNAL\\admin set the password of INTERNAL\\eve' "$SITE/logs/fathom.log"
}

@test "the security audit says which rules grant which users what on which resources" {
	printf 'audi password\n' | "$FATHOM" user add audi --dir "$SITE" >/dev/null
	app_file "$BATS_TEST_TMPDIR/a.fapp" 0
	st=$(api POST "/qrs/app/upload?name=AuditApp" --data-binary @"$BATS_TEST_TMPDIR/a.fapp"); expect 201 "$st"
	app=$(jqb .id)
	st=$(json POST /qrs/systemrule/security/audit '{"resourceType":"App","resourceFilter":"name eq '"'AuditApp'"'","userFilter":"userId eq '"'admin'"' or userId eq '"'audi'"'"}')
	expect 200 "$st"
	admin=$(sql "SELECT id FROM users WHERE user_id = 'admin'"); audi=$(sql "SELECT id FROM users WHERE user_id = 'audi'")
	root=$(sql "SELECT id FROM systemrule WHERE name = 'RootAdmin'")
	[ "$(jqb --arg u "$admin" --arg a "$app" --arg r "$root" '[.ruleApplication[] | select(.userID == $u and .resourceID == $a and .ruleID == $r and .allowed)] | length')" = 1 ]
	[ "$(jqb --arg r "$root" '.rules[$r].name')" = RootAdmin ]
	[ "$(jqb --arg u "$audi" '.users[$u].userId')" = audi ]
	[ "$(jqb --arg a "$app" '.resources[$a].name')" = AuditApp ]
	# audi may create apps, but no rule lets her read this one
	[ "$(jqb --arg u "$audi" '[.ruleApplication[] | select(.userID == $u and .allowed and (.actions % 4 >= 2))] | length')" = 0 ]
	[ "$(jqb --arg u "$audi" '[.ruleApplication[] | select(.userID == $u and .allowed)] | length')" -ge 1 ]
	# with includeNonGrantingRules the rules that did not grant are there too
	st=$(json POST /qrs/systemrule/security/audit '{"resourceType":"App","resourceFilter":"name eq '"'AuditApp'"'","userFilter":"userId eq '"'audi'"'","includeNonGrantingRules":true}')
	expect 200 "$st"
	[ "$(jqb '[.ruleApplication[] | select(.allowed == false)] | length')" -ge 1 ]
	st=$(json POST /qrs/systemrule/security/audit '{"resourceType":"NoSuchType"}'); expect 400 "$st"
	# a person needs the right to read rules to audit them
	st=$(sign_in audi 'audi password'); s=$(sid)
	st=$(qrs POST /qrs/systemrule/security/audit "$s" -H 'Content-Type: application/json' --data '{"resourceType":"App"}')
	expect 403 "$st"
}

@test "a list as a table as the rules allow: a person sees the rows and privileges that are theirs" {
	# a person sees the rows the rules let them read, and only what they may do
	printf 'tabby password\n' | "$FATHOM" user add tabby --dir "$SITE" >/dev/null
	app_file "$BATS_TEST_TMPDIR/t.fapp" 0
	st=$(api POST "/qrs/app/upload?name=TableApp" --data-binary @"$BATS_TEST_TMPDIR/t.fapp"); expect 201 "$st"
	adef='{"columns":[{"name":"name","columnType":"Property","definition":"name"},{"name":"may","columnType":"Privileges","definition":"privileges"}]}'
	st=$(sign_in admin "$ADMIN_PW"); s=$(sid)
	st=$(qrs POST "/qrs/app/table?filter=name%20eq%20'TableApp'" "$s" -H 'Content-Type: application/json' --data "$adef"); expect 201 "$st"
	[ "$(jqb .totalCount)" = 1 ]; [ "$(jqb '.rows[0][1]|index("delete") != null')" = true ]
	st=$(sign_in tabby 'tabby password'); s=$(sid)
	st=$(qrs POST "/qrs/app/table?filter=name%20eq%20'TableApp'" "$s" -H 'Content-Type: application/json' --data "$adef"); expect 201 "$st"
	[ "$(jqb .totalCount)" = 0 ]; [ "$(jqb '.rows|length')" = 0 ]
}

@test "a person makes reload tasks and reads execution logs as the rules allow" {
	printf 'tasky password\n' | "$FATHOM" user add tasky --dir "$SITE" >/dev/null
	app_file "$BATS_TEST_TMPDIR/k.fapp" 0
	st=$(api POST "/qrs/app/upload?name=TaskyApp" --data-binary @"$BATS_TEST_TMPDIR/k.fapp"); expect 201 "$st"
	app=$(jqb .id)
	body="{\"task\":{\"name\":\"Tasky reload\",\"app\":{\"id\":\"$app\"}}}"
	st=$(sign_in tasky 'tasky password'); s=$(sid)
	st=$(qrs POST /qrs/reloadtask/create "$s" -H 'Content-Type: application/json' --data "$body"); expect 403 "$st"
	[ "$(rows reloadtask "WHERE name = 'Tasky reload'")" = 0 ]
	st=$(sign_in admin "$ADMIN_PW"); s=$(sid)
	st=$(qrs POST /qrs/reloadtask/create "$s" -H 'Content-Type: application/json' --data "$body"); expect 201 "$st"
	task=$(jqb .id)
	st=$(qrs POST "/qrs/task/$task/start/synchronous" "$s"); expect 201 "$st"
	for _ in $(seq 1 100); do
		st=$(api GET "/qrs/executionresult?filter=taskID%20eq%20$task")
		[ "$(jqb '.[0].status')" = 7 ] || [ "$(jqb '.[0].status')" = 8 ] && break
		sleep 0.2
	done
	rid=$(jqb '.[0].id')
	st=$(qrs GET "/qrs/executionresult/$rid/scriptlog" "$s"); expect 200 "$st"
	grep -q 'reload started' "$(BODY_FILE)"
	st=$(sign_in tasky 'tasky password'); s=$(sid)
	st=$(qrs GET "/qrs/executionresult/$rid/scriptlog" "$s"); expect 403 "$st"
}

@test "replace needs update on the app it overwrites, and read of the one it copies" {
	printf 'replacer password\n' | "$FATHOM" user add replacer --dir "$SITE" >/dev/null
	app_file "$BATS_TEST_TMPDIR/r1.fapp" 0
	app_file "$BATS_TEST_TMPDIR/r2.fapp" 3000
	# the stream the default rules open to everyone
	st=$(api GET "/qrs/stream?filter=name%20eq%20'Everyone'"); expect 200 "$st"
	if [ "$(jqb length)" = 0 ]; then st=$(json POST /qrs/stream '{"name":"Everyone"}'); expect 201 "$st"; everyone=$(jqb .id)
	else everyone=$(jqb '.[0].id'); fi
	st=$(api POST "/qrs/app/upload?name=TheirApp" --data-binary @"$BATS_TEST_TMPDIR/r2.fapp"); expect 201 "$st"; theirs=$(jqb .id)
	st=$(api PUT "/qrs/app/$theirs/publish?stream=$everyone"); expect 200 "$st"
	st=$(sign_in replacer 'replacer password'); s=$(sid)
	st=$(qrs POST "/qrs/app/upload?name=MyApp" "$s" --data-binary @"$BATS_TEST_TMPDIR/r1.fapp"); expect 201 "$st"; mine=$(jqb .id)
	st=$(qrs GET "/qrs/app/$theirs" "$s"); expect 200 "$st" # readable, published to Everyone
	size=$(jqb .fileSize)
	# mine over theirs: they may read mine, but not change theirs
	st=$(qrs PUT "/qrs/app/$mine/replace?app=$theirs" "$s"); expect 403 "$st"
	[ "$(api GET "/qrs/app/$theirs" >/dev/null; jqb .fileSize)" = "$size" ]
	# theirs over mine: read theirs, update mine
	st=$(qrs PUT "/qrs/app/$theirs/replace?app=$mine" "$s"); expect 200 "$st"
	[ "$(api GET "/qrs/app/$mine" >/dev/null; jqb .fileSize)" = "$size" ]
}

@test "a person moves an app only to a stream the rules let them publish to" {
	printf 'mover password\n' | "$FATHOM" user add mover --dir "$SITE" >/dev/null
	app_file "$BATS_TEST_TMPDIR/m.fapp" 0
	st=$(api POST "/qrs/app/upload?name=MovedApp" --data-binary @"$BATS_TEST_TMPDIR/m.fapp"); expect 201 "$st"; app=$(jqb .id)
	st=$(json POST /qrs/stream '{"name":"MoverHome"}'); expect 201 "$st"; home=$(jqb .id)
	st=$(json POST /qrs/stream '{"name":"MoverYes"}'); expect 201 "$st"; yes=$(jqb .id)
	st=$(json POST /qrs/stream '{"name":"MoverNo"}'); expect 201 "$st"; no=$(jqb .id)
	st=$(api PUT "/qrs/app/$app/publish?stream=$home"); expect 200 "$st"
	st=$(json POST /qrs/systemrule '{"name":"MoverApps","category":"Security","type":"Custom","resourceFilter":"App_*","rule":"user.userId = \"mover\" and resource.name = \"MovedApp\"","actions":6}'); expect 201 "$st"
	st=$(json POST /qrs/systemrule '{"name":"MoverStreams","category":"Security","type":"Custom","resourceFilter":"Stream_*","rule":"user.userId = \"mover\" and resource.name like \"MoverHome\" or user.userId = \"mover\" and resource.name = \"MoverYes\"","actions":34}'); expect 201 "$st"
	st=$(sign_in mover 'mover password'); s=$(sid)
	st=$(qrs GET "/qrs/app/$app" "$s"); expect 200 "$st"
	st=$(qrs PUT "/qrs/app/$app" "$s" -H 'Content-Type: application/json' --data "$(jq --arg to "$no" '.stream = {"id": $to}' "$(BODY_FILE)")")
	expect 403 "$st"
	[ "$(sql "SELECT stream_id FROM app WHERE id = '$app'")" = "$home" ]
	st=$(qrs GET "/qrs/app/$app" "$s"); expect 200 "$st"
	st=$(qrs PUT "/qrs/app/$app" "$s" -H 'Content-Type: application/json' --data "$(jq --arg to "$yes" '.stream = {"id": $to}' "$(BODY_FILE)")")
	expect 200 "$st"
	[ "$(sql "SELECT stream_id FROM app WHERE id = '$app'")" = "$yes" ]
}

@test "a rule's syntax is checked without saving it, with the position of the fault" {
	st=$(json POST /qrs/systemrule/check '{"rule":"user.roles = \"RootAdmin\"","resourceFilter":"App_*"}'); expect 200 "$st"
	[ "$(jqb .valid)" = true ]
	st=$(json POST /qrs/systemrule/check '{"rule":"user.roles = \"RootAdmin\" and","resourceFilter":"App_*"}'); expect 200 "$st"
	[ "$(jqb .valid)" = false ]; [ "$(jqb .field)" = rule ]; [ "$(jqb .position)" -ge 27 ]
	st=$(json POST /qrs/systemrule/check '{"rule":"","resourceFilter":"App_*, Stream_/*"}'); expect 200 "$st"
	[ "$(jqb .valid)" = false ]; [ "$(jqb .field)" = resourceFilter ]; [ "$(jqb .position)" = 15 ]
	[ "$(rows systemrule "WHERE rule LIKE '%RootAdmin\" and%'")" = 0 ]
	# anyone signed in may check (it tells nothing of the site)
	printf 'checker password\n' | "$FATHOM" user add checker --dir "$SITE" >/dev/null
	st=$(sign_in checker 'checker password'); s=$(sid)
	st=$(qrs POST /qrs/systemrule/check "$s" -H 'Content-Type: application/json' --data '{"rule":"resource.name like"}'); expect 200 "$st"
	[ "$(jqb .valid)" = false ]; [ -n "$(jqb .message)" ]
}

@test "/metrics counts the proxy's requests by route, and people cannot read it through the proxy" {
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 303 ]
	st=$(qrs GET /qrs/about "$(sid)"); [ "$st" = 200 ]
	st=$(px /metrics -b "X-Qlik-Session=$(sid)"); [ "$st" = 404 ]
	st=$(px /health); [ "$st" = 200 ]
	st=$(api GET /metrics); expect 200 "$st"
	grep -qE '^fathom_http_requests_total\{service="proxy",route="/sign-in",code="303"\} [1-9]' "$(BODY_FILE)"
	# a request the proxy hands to the repository in-process is counted once, under the
	# proxy, with the repository's route
	grep -qE '^fathom_http_requests_total\{service="proxy",route="/qrs/about",code="200"\} [1-9]' "$(BODY_FILE)"
	grep -qE '^fathom_http_requests_total\{service="proxy",route="other",code="404"\} [1-9]' "$(BODY_FILE)"
	grep -qE '^fathom_http_requests_total\{service="proxy",route="/health",code="200"\} [1-9]' "$(BODY_FILE)"
}

@test "a flood of silent connections to the proxy does not keep others from signing in" {
	node "$BATS_TEST_DIRNAME/wire.js" idle "$PXP" 600 4 >"$BATS_TEST_TMPDIR/idle" &
	sleep 1.5
	FROM=127.0.0.9
	st=$(px /sign-in); [ "$st" = 200 ]
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 303 ]
	st=$(px /qps/user -b "X-Qlik-Session=$(sid)"); [ "$st" = 200 ]
	wait
	grep -q "opened 600" "$BATS_TEST_TMPDIR/idle"
}

@test "a name that would change who X-Qlik-User says is refused at every way in" {
	local evil='x; UserDirectory=INTERNAL; UserId=admin'
	st=$(qps POST /qps/ticket --data "$(jq -nc --arg u "$evil" '{UserDirectory:"CORP",UserId:$u}')"); expect 400 "$st"
	st=$(qps POST /qps/session --data "$(jq -nc --arg u "$evil" '{UserDirectory:"CORP",UserId:$u,SessionId:"evil-session-000000001"}')")
	expect 400 "$st"
	# a person the repository API made with such a name cannot sign in by form
	st=$(json POST /qrs/user "$(jq -nc --arg u "$evil" '{userId:$u,userDirectory:"INTERNAL"}')"); expect 201 "$st"
	st=$(json PUT "/qrs/user/$(jqb .id)/password" '{"password":"evil password"}'); expect 204 "$st"
	st=$(sign_in "$evil" 'evil password'); [ "$st" = 401 ]
	# nor by a trusted header or a token
	vproxy '{"prefix":"sso3","description":"SSO 3","authenticationMethod":"HeaderStaticUserDirectory","headerAuthenticationHeaderName":"X-Portal-User","headerAuthenticationStaticUserDirectory":"CORP","headerAuthenticationTrustedAddresses":["127.0.0.7"]}' >/dev/null
	FROM=127.0.0.7
	eventually 200 px /sso3/qps/user -H 'X-Portal-User: fine'
	st=$(px /sso3/qps/user -H "X-Portal-User: $evil"); [ "$st" = 400 ]
	run "$FATHOM" user add 'a;b' --dir "$SITE"
	[ "$status" -eq 2 ]
}

@test "a ticket's attributes reach the rules: user.group reads the group it names" {
	st=$(json POST /qrs/stream '{"name":"SalesOnly"}'); expect 201 "$st"; stream=$(jqb .id)
	app_file "$BATS_TEST_TMPDIR/a.fapp" 0
	st=$(api POST "/qrs/app/upload?name=SalesReport" --data-binary @"$BATS_TEST_TMPDIR/a.fapp"); expect 201 "$st"
	app=$(jqb .id)
	st=$(api PUT "/qrs/app/$app/publish?stream=$stream"); expect 200 "$st"
	st=$(json POST /qrs/systemrule "{\"name\":\"Sales read SalesOnly\",\"category\":\"Security\",\"resourceFilter\":\"Stream_$stream\",\"actions\":2,\"rule\":\"user.group = \\\"Sales\\\" or user.userId = \\\"admin\\\"\"}")
	expect 201 "$st"
	for who in sam:Sales fin:Finance; do
		st=$(qps POST /qps/ticket --data "{\"UserDirectory\":\"CORP\",\"UserId\":\"${who%%:*}\",\"Attributes\":[{\"group\":\"${who#*:}\"},{\"userId\":\"admin\"}]}")
		expect 201 "$st"
		t=$(jqb .Ticket)
		st=$(px "/?qlikTicket=$t"); [ "$st" = 302 ]
		hdr Set-Cookie | sed -n 's/^X-Qlik-Session=\([^;]*\);.*/\1/p' >"$BATS_TEST_TMPDIR/sid.${who%%:*}"
	done
	st=$(qrs GET "/qrs/app?filter=name%20eq%20'SalesReport'" "$(cat "$BATS_TEST_TMPDIR/sid.sam")"); expect 200 "$st"
	[ "$(jqb length)" = 1 ]
	st=$(qrs GET "/qrs/app?filter=name%20eq%20'SalesReport'" "$(cat "$BATS_TEST_TMPDIR/sid.fin")"); expect 200 "$st"
	[ "$(jqb length)" = 0 ]
	# (fin's ticket also said userId admin: an attribute adds to what the repository holds
	# of the user, never changes it, or the rule's second half would have let fin in)
}

@test "the hub: its page and files for a signed-in person only, and nothing outside its folder" {
	hub="$(dirname "$FATHOM")/web/hub"
	[ -f "$hub/index.html" ] || skip "the hub is not built beside $FATHOM (run scripts/deps.sh, then make)"
	st=$(px /hub/); [ "$st" = 302 ]; [ "$(hdr Location)" = "/sign-in?next=%2Fhub%2F" ]
	st=$(px /hub/assets/x.js); [ "$st" = 302 ]
	st=$(sign_in admin "$ADMIN_PW"); [ "$st" = 303 ]
	c="X-Qlik-Session=$(sid)"
	st=$(px /hub -b "$c"); [ "$st" = 301 ]; [ "$(hdr Location)" = /hub/ ]
	for p in /hub/ /hub/work /hub/index.html /sense/app/8a4c3e0e-0d6e-4a57-9d55-5c8b8f0f3a11/sheet/s-1; do
		st=$(px "$p" -b "$c"); [ "$st" = 200 ]
		grep -q '<head><base href="/hub/">' "$(BODY_FILE)"
		[[ "$(hdr Content-Type)" == text/html* ]]
		[[ "$(hdr Content-Security-Policy)" == *"script-src 'self';"* ]]
		[ "$(hdr Cache-Control)" = no-cache ]
	done
	js=$(grep -o 'assets/index-[^"]*\.js' "$(BODY_FILE)" | head -1)
	[ -n "$js" ]
	st=$(px "/hub/$js" -b "$c"); [ "$st" = 200 ]
	cmp "$(BODY_FILE)" "$hub/$js"
	[[ "$(hdr Content-Type)" == text/javascript* ]]
	[[ "$(hdr Cache-Control)" == *immutable* ]]
	[ -z "$(hdr Content-Encoding)" ]
	st=$(px "/hub/$js" -b "$c" -H 'Accept-Encoding: gzip, br'); [ "$st" = 200 ]
	[ "$(hdr Content-Encoding)" = gzip ]; [ "$(hdr Vary)" = Accept-Encoding ]
	gzip -dc <"$(BODY_FILE)" | cmp - "$hub/$js"
	for bad in /hub/../node.conf /hub/assets/%2e%2e/%2e%2e/node.conf /hub/assets/..%2f..%2fnode.conf \
		/hub/.vite/manifest.json /hub/assets/nothing.js /hub/a//b.js /hub/x.exe /hub/assets/; do
		st=$(px "$bad" -b "$c" --path-as-is)
		[ "$st" = 404 ] || [ "$st" = 400 ] || { echo "$bad: $st" >&2; false; }
		! grep -q '^\[' "$(BODY_FILE)" || false
	done
}

@test "the proxy shows the certificate node.conf names, and the new one after SIGHUP; the other ports keep the node's" {
	local d=$BATS_TEST_TMPDIR
	for i in 1 2; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
			-addext subjectAltName=DNS:localhost -keyout "$d/px$i.key" -out "$d/px$i.pem" 2>/dev/null
	done
	cp "$d/px1.pem" "$d/px.pem"
	cp "$d/px1.key" "$d/px.key"
	cp "$SITE/node.conf" "$d/node.conf.saved"
	stop_node "$SITE"
	printf '\n[proxy]\ncert = %s\nkey = %s\n' "$d/px.pem" "$d/px.key" >>"$SITE/node.conf"
	start_node "$SITE"
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/px1.pem" "$PX/sign-in"); [ "$st" = 200 ]
	# the site CA no longer vouches for the proxy's port; the repository port keeps the node's
	run curl -s -o /dev/null --cacert "$SITE/certs/root.pem" "$PX/sign-in"; [ "$status" -ne 0 ]
	s=$(api GET /qrs/about); expect 200 "$s"
	cp "$d/px2.pem" "$d/px.pem"
	cp "$d/px2.key" "$d/px.key"
	kill -HUP "$(cat "$SITE/pid")"
	for _ in $(seq 1 50); do grep -q "the proxy's certificate is reloaded" "$SITE/stderr.log" && break; sleep 0.1; done
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/px2.pem" "$PX/sign-in"); [ "$st" = 200 ]
	# a key that does not fit the certificate is refused, and the proxy keeps what it has
	cp "$d/px1.key" "$d/px.key"
	kill -HUP "$(cat "$SITE/pid")"
	for _ in $(seq 1 50); do grep -q "the proxy's certificate was not reloaded" "$SITE/stderr.log" && break; sleep 0.1; done
	grep -q "the proxy's certificate was not reloaded" "$SITE/stderr.log"
	st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/px2.pem" "$PX/sign-in"); [ "$st" = 200 ]
	# a cert without a key does not start
	stop_node "$SITE"
	cp "$d/node.conf.saved" "$SITE/node.conf"
	sed -i "s|^port = $PXP\$|port = $PXP\ncert = $d/px.pem|" "$SITE/node.conf"
	run "$FATHOM" run --dir "$SITE" $(root_flag)
	[ "$status" -ne 0 ]
	[[ "$output" == *"names a cert without a key"* ]]
	cp "$d/node.conf.saved" "$SITE/node.conf"
	start_node "$SITE"
}
