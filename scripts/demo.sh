#!/usr/bin/env bash
# demo.sh: runs a whole single-node site from this checkout (make demo).
# Creates ./demo-site and ./demo-share on first use, starts the node, checks that it
# answers, prints how to call it, and keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
FATHOM=${FATHOM:-build/fathom}
DIR=${DEMO_DIR:-demo-site}
SHARE=${DEMO_SHARE:-demo-share}
PORT=${DEMO_PORT:-4242}
PROXY_PORT=${DEMO_PROXY_PORT:-8443}

if [ ! -f "$DIR/node.conf" ]; then
	# the demo's administrator gets a random password, kept beside the site for the reader
	pw=$(mktemp)
	head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$pw"
	"$FATHOM" site create --dir "$DIR" --share "$SHARE" --repository-port "$PORT" \
		--proxy-port "$PROXY_PORT" --proxy-http-port "${DEMO_PROXY_HTTP_PORT:-8080}" \
		--proxy-api-port "${DEMO_PROXY_API_PORT:-4243}" \
		--hostname localhost --name demo --admin demo --admin-password-file "$pw"
	install -m 0600 "$pw" "$DIR/demo-password"
	rm -f "$pw"
fi
PROXY_PORT=$(awk '/^\[/ { sec = $0 } sec == "[proxy]" && $1 == "port" { print $3 }' "$DIR/node.conf")
PORT=$(awk '/^\[/ { sec = $0 } sec == "[repository]" && $1 == "port" { print $3 }' "$DIR/node.conf")

flags=()
if [ "$(id -u)" -eq 0 ]; then
	echo "demo: running as root, so passing --allow-root. A real node runs as its own" \
		"service user; the demo does not create one." >&2
	flags+=(--allow-root)
fi

"$FATHOM" run --dir "$DIR" "${flags[@]}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

CURL=(curl -s --cacert "$DIR/certs/root.pem" --cert "$DIR/certs/client.pem"
	--key "$DIR/certs/client_key.pem" -H "X-Qlik-Xrfkey: 0123456789abcdef")
for _ in $(seq 1 50); do
	if "${CURL[@]}" -o /dev/null "https://localhost:$PORT/qrs/about?xrfkey=0123456789abcdef"; then
		break
	fi
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid || exit $?
	fi
	sleep 0.2
done

# The example app (examples/sales), made once: 300,000 generated rows and two sheets of
# charts, published to the stream Everyone, which every signed-in person reads.
Q="xrfkey=0123456789abcdef"
API="https://localhost:$PORT/qrs"
app=$("${CURL[@]}" -G --data-urlencode "filter=name eq 'Sales example'" "$API/app?$Q" | jq -r '.[0].id // empty')
if [ -z "$app" ]; then
	echo "demo: making the example app (examples/sales)" >&2
	"$FATHOM" app create "Sales example" --dir "$DIR" --script examples/sales/sales.qvs \
		--objects examples/sales/objects.json >/dev/null
	app=$("${CURL[@]}" -G --data-urlencode "filter=name eq 'Sales example'" "$API/app?$Q" | jq -r '.[0].id')
	"${CURL[@]}" -X POST "$API/app/$app/reload?$Q" >/dev/null
	for _ in $(seq 1 100); do
		t=$("${CURL[@]}" "$API/app/$app?$Q" | jq -r '.lastReloadTime // ""')
		case "$t" in 1753* | "") sleep 0.2 ;; *) break ;; esac
	done
	stream=$("${CURL[@]}" -G --data-urlencode "filter=name eq 'Everyone'" "$API/stream?$Q" | jq -r '.[0].id // empty')
	if [ -z "$stream" ]; then
		stream=$("${CURL[@]}" -X POST -H 'Content-Type: application/json' -d '{"name":"Everyone"}' \
			"$API/stream?$Q" | jq -r .id)
	fi
	"${CURL[@]}" -X PUT "$API/app/$app/publish?stream=$stream&$Q" >/dev/null
fi
# The site's monitoring app (its own logs, reloaded every hour): added once, kept after.
"$FATHOM" monitoring --dir "$DIR" >/dev/null || echo "demo: the monitoring app was not added (see above)" >&2
HUB="https://localhost:${PROXY_PORT:-8443}/sense/app/$app"

cat <<MSG

Fathom is running. Open the example app: $HUB
People sign in at https://localhost:${PROXY_PORT:-8443}/ as "demo",
password $(cat "$DIR/demo-password" 2>/dev/null || echo "(the one given at site create)")
(the site's own CA signed the certificate: trust $DIR/certs/root.pem or accept the warning).
As "demo", an administrator, manage the site in the console: https://localhost:${PROXY_PORT:-8443}/qmc/

The repository API: https://localhost:$PORT/qrs (node folder $DIR, share $SHARE).
Every call needs the site's client certificate and a 16-character xrfkey. Try:

  C="curl -s --cacert $DIR/certs/root.pem --cert $DIR/certs/client.pem --key $DIR/certs/client_key.pem -H X-Qlik-Xrfkey:0123456789abcdef"
  \$C "https://localhost:$PORT/qrs/about?xrfkey=0123456789abcdef"
  \$C "https://localhost:$PORT/qrs/servernodeconfiguration/full?xrfkey=0123456789abcdef"
  build/fathom app file --out demo.fapp --title Demo
  \$C -X POST --data-binary @demo.fapp "https://localhost:$PORT/qrs/app/upload?name=Demo&xrfkey=0123456789abcdef"
  \$C "https://localhost:$PORT/qrs/app?xrfkey=0123456789abcdef&filter=name%20sw%20'dem'"

The README has the five-minute tour. Press Ctrl-C to stop the node.
MSG
if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && command -v xdg-open >/dev/null; then
	xdg-open "$HUB" >/dev/null 2>&1 || true
fi
wait $pid
