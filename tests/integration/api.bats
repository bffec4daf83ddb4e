#!/usr/bin/env bats
# The generic repository API: CRUD for every entity type, filters, orderby, optimistic
# concurrency, and the trust checks (client certificate, xrfkey), over real HTTPS.

load helpers

setup_file() { site_up; }
teardown_file() { site_down; }

@test "about answers with the database provider and this node" {
	s=$(api GET /qrs/about); expect 200 "$s"
	[ "$(jqb .schemaPath)" = About ]
	if on_postgres; then
		[ "$(jqb .databaseProvider)" = PostgreSQL ]; [ "$(jqb .singleNodeOnly)" = false ]
	else
		[ "$(jqb .databaseProvider)" = SQLite ]; [ "$(jqb .singleNodeOnly)" = true ]
	fi
	[ "$(jqb .serverNodeId)" = "$(sed -n 's/^id = //p' "$SITE/node.conf")" ]
}

@test "a new site has its node, service cluster, users and folder data connections" {
	s=$(api GET /qrs/servernodeconfiguration/full); expect 200 "$s"
	[ "$(jqb length)" = 1 ]
	[ "$(jqb '.[0].isCentral')" = true ]
	[ "$(jqb '.[0].serviceCluster.name')" = ServiceCluster ]
	s=$(api GET /qrs/servicecluster/full); expect 200 "$s"
	[ "$(jqb '.[0].settings.sharedPersistenceProperties.appFolder')" = "$SHARE/Apps" ]
	s=$(api GET "/qrs/dataconnection?orderby=name"); expect 200 "$s"
	[ "$(jqb '[.[].name]|join(",")')" = "ArchivedLogsFolder,CustomData" ]
	s=$(api GET "/qrs/user/count?filter=userDirectory%20eq%20'INTERNAL'"); expect 200 "$s"
	[ "$(jqb .value)" -ge 2 ]
}

@test "create, read, update and delete a stream; condensed and full forms differ" {
	s=$(json POST /qrs/stream '{"name":"Crud"}'); expect 201 "$s"
	id=$(jqb .id)
	[ "$(jqb .schemaPath)" = Stream ]
	[ "$(jqb .modifiedByUserName)" = 'INTERNAL\sa_repository' ]
	[ "$(jqb .owner.userId)" = sa_repository ]
	s=$(api GET "/qrs/stream?filter=id%20eq%20$id"); expect 200 "$s"
	[ "$(jqb '.[0]|keys|join(",")')" = "id,name,privileges" ]
	s=$(api GET "/qrs/stream/$id"); expect 200 "$s"
	md=$(jqb .modifiedDate)
	s=$(json PUT "/qrs/stream/$id" "{\"id\":\"$id\",\"name\":\"Crud2\",\"modifiedDate\":\"$md\"}" \
		-H 'X-Qlik-User: UserDirectory=CORP; UserId=alice'); expect 200 "$s"
	[ "$(jqb .name)" = Crud2 ]
	[ "$(jqb .modifiedByUserName)" = 'CORP\alice' ]
	[[ "$(jqb .modifiedDate)" > "$md" ]]
	s=$(api DELETE "/qrs/stream/$id"); expect 204 "$s"
	s=$(api GET "/qrs/stream/$id"); expect 404 "$s"
	[ "$(jqb .code)" = ERR_NOT_FOUND ]
	[ "$(rows change_log "WHERE object_id = '$id'")" = 3 ]
}

@test "a PUT with a stale modifiedDate gets 409 and changes nothing" {
	s=$(json POST /qrs/tag '{"name":"t409"}'); expect 201 "$s"
	id=$(jqb .id); md=$(jqb .modifiedDate)
	s=$(json PUT "/qrs/tag/$id" "{\"name\":\"first\",\"modifiedDate\":\"$md\"}"); expect 200 "$s"
	s=$(json PUT "/qrs/tag/$id" "{\"name\":\"second\",\"modifiedDate\":\"$md\"}"); expect 409 "$s"
	[ "$(jqb .code)" = ERR_STALE ]
	s=$(api GET "/qrs/tag/$id"); [ "$(jqb .name)" = first ]
	s=$(json PUT "/qrs/tag/$id" '{"name":"nodate"}'); expect 400 "$s"
	[[ "$(jqb .message)" == *modifiedDate* ]]
}

@test "concurrent PUTs with the same modifiedDate: exactly one wins" {
	s=$(json POST /qrs/tag '{"name":"race"}'); expect 201 "$s"
	id=$(jqb .id); md=$(jqb .modifiedDate)
	for i in $(seq 1 8); do
		( b=$BATS_TEST_TMPDIR/r$i
		  curl -s -o "$b" -w '%{http_code}\n' -X PUT --cacert "$SITE/certs/root.pem" \
			--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" \
			-H "X-Qlik-Xrfkey: $XRF" -H 'Content-Type: application/json' \
			--data "{\"name\":\"w$i\",\"modifiedDate\":\"$md\"}" \
			"$BASE/qrs/tag/$id?xrfkey=$XRF" >"$b.status" ) &
	done
	wait
	wins=$(cat "$BATS_TEST_TMPDIR"/r*.status | grep -c '^200$' || true)
	conflicts=$(cat "$BATS_TEST_TMPDIR"/r*.status | grep -c '^409$' || true)
	[ "$wins" = 1 ]
	[ "$conflicts" = 7 ]
}

@test "POST many creates all or nothing" {
	s=$(json POST /qrs/tag/many '[{"name":"m1"},{"name":"m2"}]'); expect 201 "$s"
	[ "$(jqb length)" = 2 ]
	before=$(rows tag)
	s=$(json POST /qrs/tag/many '[{"name":"m3"},{"nme":"typo"}]'); expect 400 "$s"
	[[ "$(jqb .message)" == "item 1: "* ]]
	[ "$(rows tag)" = "$before" ]
}

@test "filters: operators, nesting, null, GUIDs, escapes, not, and case-insensitive names" {
	s=$(json POST /qrs/stream '{"name":"O'"'"'Brien"}'); expect 201 "$s"
	sid=$(jqb .id)
	json POST /qrs/tag/many '[{"name":"alpha"},{"name":"beta"},{"name":"alphabet"}]' >/dev/null
	s=$(api GET "/qrs/tag?filter=name%20sw%20'alpha'&orderby=name%20desc"); expect 200 "$s"
	[ "$(jqb '[.[].name]|join(",")')" = "alphabet,alpha" ]
	s=$(api GET "/qrs/tag?filter=Name%20EW%20'ET'"); [ "$(jqb '[.[].name]|join(",")')" = alphabet ]
	s=$(api GET "/qrs/tag?filter=name%20so%20'phab'"); [ "$(jqb length)" = 1 ]
	s=$(api GET "/qrs/tag?filter=(name%20eq%20'alpha'%20or%20name%20eq%20'beta')%20and%20not%20name%20eq%20'beta'")
	[ "$(jqb '[.[].name]|join(",")')" = alpha ]
	s=$(api GET "/qrs/stream?filter=name%20eq%20'o''brien'"); [ "$(jqb '.[0].id')" = "$sid" ]
	s=$(api GET "/qrs/stream?filter=id%20eq%20$sid"); [ "$(jqb length)" = 1 ]
	s=$(api GET "/qrs/stream?filter=owner.userId%20eq%20'sa_repository'%20and%20name%20eq%20'O''Brien'")
	[ "$(jqb length)" = 1 ]
	s=$(api GET "/qrs/servernodeconfiguration?filter=serviceCluster.name%20eq%20'ServiceCluster'")
	[ "$(jqb length)" = 1 ]
	s=$(api GET "/qrs/app/count?filter=stream%20eq%20null"); expect 200 "$s"
	s=$(api GET "/qrs/servernodeconfiguration/count?filter=isCentral%20eq%20true"); [ "$(jqb .value)" = 1 ]
	s=$(api GET "/qrs/servernodeconfiguration/count?filter=nodePurpose%20eq%20Production"); [ "$(jqb .value)" = 1 ]
	s=$(api GET "/qrs/tag/count?filter=createdDate%20gt%20'2000-01-01%2000:00:00'"); [ "$(jqb .value)" -ge 3 ]
}

@test "tags and custom properties on apps and streams, with filters over them" {
	s=$(json POST /qrs/tag '{"name":"finance"}'); tid=$(jqb .id)
	s=$(json POST /qrs/custompropertydefinition '{"name":"Env","valueType":"Text","choiceValues":["Prod","Test"],"objectTypes":["App","Stream"]}')
	expect 201 "$s"; did=$(jqb .id)
	s=$(json POST /qrs/stream "{\"name\":\"Tagged\",\"tags\":[{\"id\":\"$tid\"}],\"customProperties\":[{\"value\":\"Prod\",\"definition\":{\"id\":\"$did\"}}]}")
	expect 201 "$s"
	[ "$(jqb '.tags[0].name')" = finance ]
	[ "$(jqb '.customProperties[0].definition.name')" = Env ]
	[ "$(jqb '.customProperties[0].value')" = Prod ]
	s=$(api GET "/qrs/stream?filter=tags.name%20eq%20'FINANCE'"); [ "$(jqb '.[0].name')" = Tagged ]
	s=$(api GET "/qrs/stream?filter=@Env%20eq%20'Prod'"); [ "$(jqb '.[0].name')" = Tagged ]
	s=$(api GET "/qrs/stream?filter=customProperties.definition.name%20eq%20'Env'%20and%20customProperties.value%20eq%20'Prod'")
	[ "$(jqb length)" = 1 ]
	s=$(json POST /qrs/stream "{\"name\":\"Bad\",\"customProperties\":[{\"value\":\"Dev\",\"definition\":{\"id\":\"$did\"}}]}")
	expect 400 "$s"; [[ "$(jqb .message)" == *"choice values"* ]]
	s=$(json POST /qrs/dataconnection "{\"name\":\"dc\",\"connectionstring\":\"/srv/data\",\"customProperties\":[{\"value\":\"Prod\",\"definition\":{\"id\":\"$did\"}}]}")
	expect 400 "$s"; [[ "$(jqb .message)" == *"does not apply"* ]]
	[ "$(rows dataconnection "WHERE name = 'dc'")" = 0 ]
}

@test "bad filters get 400 with the position of the fault" {
	s=$(api GET "/qrs/tag?filter=name%20eq%20'unterminated"); expect 400 "$s"
	[ "$(jqb .code)" = ERR_FILTER ]; [ "$(jqb .position)" = 9 ]
	[[ "$(jqb .message)" == "Cannot parse the expression: "* ]]
	s=$(api GET "/qrs/tag?filter=nosuch%20eq%20'x'"); expect 400 "$s"; [ "$(jqb .position)" = 1 ]
	s=$(api GET "/qrs/tag?filter=name%20xx%20'x'"); expect 400 "$s"; [ "$(jqb .position)" = 6 ]
	s=$(api GET "/qrs/tag?filter=name%20gt%20'x'"); expect 400 "$s"
	s=$(api GET "/qrs/tag?filter=id%20eq%20'not-a-guid'"); expect 400 "$s"
	s=$(api GET "/qrs/tag?filter=(name%20eq%20'x'"); expect 400 "$s"
	s=$(api GET "/qrs/tag?orderby=name%20sideways"); expect 400 "$s"
}

@test "a list as a table: one page of chosen columns, sorted and filtered by the database" {
	for i in $(seq -w 1 25); do st=$(json POST /qrs/stream "{\"name\":\"Page$i\"}"); expect 201 "$st"; done
	def='{"entity":"Stream","columns":[{"name":"id","columnType":"Property","definition":"id"},{"name":"name","columnType":1,"definition":"name"},{"name":"who","columnType":"Property","definition":"owner.userId"},{"name":"may","columnType":"Privileges","definition":"privileges"}]}'
	st=$(json POST "/qrs/stream/table?filter=name%20sw%20'Page'&skip=10&take=10&sortColumn=name&orderAscending=false" "$def"); expect 201 "$st"
	[ "$(jqb .schemaPath)" = Table ]
	[ "$(jqb '.columnNames|join(",")')" = id,name,who,may ]
	[ "$(jqb .totalCount)" = 25 ]
	[ "$(jqb '[.rows[][1]]|join(",")')" = Page15,Page14,Page13,Page12,Page11,Page10,Page09,Page08,Page07,Page06 ]
	[ "$(jqb '.rows[0][2]')" = sa_repository ]
	[ "$(jqb '.rows[0][3]|join(",")')" = create,read,update,delete,export,publish ]
	# the last page is short; past the end is empty
	st=$(json POST "/qrs/stream/table?filter=name%20sw%20'Page'&skip=20&take=10&sortColumn=name" "$def"); expect 201 "$st"
	[ "$(jqb '[.rows[][1]]|join(",")')" = Page21,Page22,Page23,Page24,Page25 ]
	st=$(json POST "/qrs/stream/table?filter=name%20sw%20'Page'&skip=30" "$def"); expect 201 "$st"
	[ "$(jqb '.rows|length')" = 0 ]; [ "$(jqb .totalCount)" = 25 ]
	# what it refuses, by name
	st=$(json POST "/qrs/stream/table?sortColumn=may" "$def"); expect 400 "$st"; jqb .message | grep -q 'sortColumn "may"'
	st=$(json POST "/qrs/stream/table?take=0" "$def"); expect 400 "$st"; jqb .message | grep -q 'take must be'
	st=$(json POST /qrs/stream/table '{"columns":[{"name":"n","columnType":"Function","definition":"Count(App)"}]}'); expect 400 "$st"
	jqb .message | grep -q 'Function and List columns'
	st=$(json POST /qrs/stream/table '{"entity":"App","columns":[{"name":"id","columnType":1,"definition":"id"}]}'); expect 400 "$st"
	st=$(json POST "/qrs/stream/table?filter=name%20xx%201" "$def"); expect 400 "$st"
	# a page's entities keep their tags (read for the page's rows only)
	st=$(json POST /qrs/tag '{"name":"paged"}'); expect 201 "$st"; tag=$(jqb .id)
	st=$(api GET "/qrs/stream/full?filter=name%20eq%20'Page12'"); expect 200 "$st"
	st=$(json PUT "/qrs/stream/$(jqb '.[0].id')" "$(jq --arg t "$tag" '.[0] | .tags = [{"id":$t}]' "$(BODY_FILE)")"); expect 200 "$st"
	tdef='{"columns":[{"name":"name","columnType":"Property","definition":"name"},{"name":"tags","columnType":"Property","definition":"tags"}]}'
	st=$(json POST "/qrs/stream/table?filter=name%20sw%20'Page1'&skip=1&take=3&sortColumn=name" "$tdef"); expect 201 "$st"
	[ "$(jqb '[.rows[][0]]|join(",")')" = Page11,Page12,Page13 ]
	[ "$(jqb '.rows[1][1][0].name')" = paged ]; [ "$(jqb '.rows[0][1]|length')" = 0 ]
}

@test "/metrics: requests by route and status, the database pool, the central role, in Prometheus's format" {
	s=$(api GET /qrs/about); expect 200 "$s"
	s=$(api GET /qrs/nosuchtype); expect 404 "$s"
	s=$(curl -s -o "$(BODY_FILE)" -w '%{http_code} %{content_type}' --cacert "$SITE/certs/root.pem" \
		--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" "$BASE/metrics")
	[ "$s" = '200 text/plain; version=0.0.4; charset=utf-8' ]
	m=$(BODY_FILE)
	grep -qE '^fathom_http_requests_total\{service="repository",route="/qrs/about",code="200"\} [1-9][0-9]*$' "$m"
	grep -qE '^fathom_http_requests_total\{service="repository",route="other",code="404"\} [1-9]' "$m"
	grep -qE '^fathom_http_request_duration_seconds_bucket\{service="repository",route="/qrs/about",le="\+Inf"\} [1-9]' "$m"
	grep -qE '^fathom_http_request_duration_seconds_count\{service="repository",route="/qrs/about"\} [1-9]' "$m"
	grep -q '^# TYPE fathom_http_request_duration_seconds histogram$' "$m"
	grep -qE '^fathom_node_info\{node="node1",version="[0-9.]+"\} 1$' "$m"
	grep -qE '^fathom_db_pool_connections\{state="in_use"\} [0-9]+$' "$m"
	grep -qE '^fathom_db_pool_connections\{state="idle"\} [0-9]+$' "$m"
	grep -qE '^fathom_central_role_held 1$' "$m"
	grep -qE '^fathom_reload_queue 0$' "$m"
	grep -qE '^fathom_node_start_time_seconds [0-9]{10}' "$m"
	grep -qE '^fathom_engine_sessions [0-9]+$' "$m"
	grep -qE '^fathom_engine_apps_loaded [0-9]+$' "$m"
	grep -qE '^fathom_engine_app_bytes [0-9]+$' "$m"
	# one HELP and TYPE per name, every sample line a name, labels and a number
	[ "$(grep -c '^# TYPE fathom_http_requests_total ' "$m")" = 1 ]
	bad=$(grep -vE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+-]+|\+Inf))$' "$m" || true)
	[ -z "$bad" ]
	# counted: a second look shows the first
	before=$(sed -n 's/^fathom_http_requests_total{service="repository",route="\/metrics",code="200"} //p' "$m")
	s=$(curl -s -o "$m" --cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem" -w '%{http_code}' "$BASE/metrics"); [ "$s" = 200 ]
	after=$(sed -n 's/^fathom_http_requests_total{service="repository",route="\/metrics",code="200"} //p' "$m")
	[ "$after" = $(( ${before:-0} + 1 )) ]
	# the repository port wants the site's client certificate for it too
	s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" "$BASE/metrics") || true
	[ "$s" != 200 ]
}

@test "bad bodies: malformed JSON, unknown, read-only and mistyped fields, control characters" {
	s=$(json POST /qrs/tag '{"name":'); expect 400 "$s"; [ "$(jqb .code)" = ERR_JSON ]
	s=$(json POST /qrs/tag '{"name":"x","colour":"red"}'); expect 400 "$s"
	[[ "$(jqb .message)" == *'"colour"'* ]]
	s=$(json POST /qrs/tag '{"name":5}'); expect 400 "$s"; [[ "$(jqb .message)" == *string* ]]
	s=$(json POST /qrs/tag '{"name":"a\u0001b"}'); expect 400 "$s"
	s=$(json POST /qrs/tag '{}'); expect 400 "$s"; [[ "$(jqb .message)" == *required* ]]
	s=$(json POST /qrs/servernodeconfiguration '{"name":"n2","hostName":"h","isCentral":true}'); expect 400 "$s"
	[[ "$(jqb .message)" == *read-only* ]]
	s=$(json POST /qrs/stream '{"name":"s","owner":{"id":"6baa5c73-af76-48c8-a5e8-c185c86a885c"}}'); expect 400 "$s"
	[[ "$(jqb .message)" == *"does not exist"* ]]
	s=$(json POST /qrs/tag '{"name":"x","name":"y"}'); expect 400 "$s"
	s=$(json POST /qrs/app '{"name":"x","fileSize":5}'); expect 400 "$s"   # an app's file is the node's to set
	s=$(api GET /qrs/nosuchtype); expect 404 "$s"
	s=$(api GET /qrs/tag/6baa5c73-af76-48c8-a5e8-c185c86a885c); expect 404 "$s"
	s=$(api PATCH /qrs/tag); expect 405 "$s"
}

@test "a body larger than the limit gets 413" {
	big=$BATS_TEST_TMPDIR/big.json
	head -c 17000000 /dev/zero | tr '\0' 'a' | sed 's/^/{"name":"/; s/$/"}/' >"$big"
	s=$(api POST /qrs/tag -H 'Content-Type: application/json' --data-binary @"$big"); expect 413 "$s"
}

@test "a GET payload can be PUT back unchanged; changing a read-only field is refused" {
	s=$(api GET /qrs/servernodeconfiguration/full); id=$(jqb '.[0].id')
	jq '.[0]' "$(BODY_FILE)" >"$BATS_TEST_TMPDIR/node.json"
	s=$(api PUT "/qrs/servernodeconfiguration/$id" -H 'Content-Type: application/json' \
		--data-binary @"$BATS_TEST_TMPDIR/node.json"); expect 200 "$s"
	jq '.isCentral = false | .modifiedDate = "'"$(jqb .modifiedDate)"'"' "$BATS_TEST_TMPDIR/node.json" >"$BATS_TEST_TMPDIR/n2.json"
	s=$(api PUT "/qrs/servernodeconfiguration/$id" -H 'Content-Type: application/json' \
		--data-binary @"$BATS_TEST_TMPDIR/n2.json"); expect 400 "$s"
}

@test "paths, parameter names and user headers are case-insensitive" {
	s=$(api GET "/qrs/ServerNodeConfiguration/Count"); expect 200 "$s"
	s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem" -H "x-qlik-xrfkey: $XRF" "$BASE/qrs/about?XrfKey=$XRF")
	[ "$s" = 200 ]
	s=$(json POST /qrs/tag '{"name":"who"}' -H 'X-Qlik-User: userdirectory=CORP;userid=bob'); expect 201 "$s"
	[ "$(jqb .modifiedByUserName)" = 'CORP\bob' ]
	s=$(json POST /qrs/tag '{"name":"who"}' -H 'X-Qlik-User: garbage'); expect 400 "$s"
}

@test "xrfkey: missing, mismatched or malformed keys get 403" {
	cert=(--cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${cert[@]}" "$BASE/qrs/about")" = 403 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${cert[@]}" "$BASE/qrs/about?xrfkey=$XRF")" = 403 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${cert[@]}" -H "X-Qlik-Xrfkey: $XRF" "$BASE/qrs/about")" = 403 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${cert[@]}" -H "X-Qlik-Xrfkey: ABCDEFGHIJKLMNOP" "$BASE/qrs/about?xrfkey=$XRF")" = 403 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${cert[@]}" -H "X-Qlik-Xrfkey: short" "$BASE/qrs/about?xrfkey=short")" = 403 ]
	body=$(curl -s "${cert[@]}" "$BASE/qrs/about")
	[ "$(echo "$body" | jq -r .message)" = "XSRF prevention check failed. Possible XSRF discovered." ]
}

@test "a missing or foreign client certificate is refused" {
	s=$(curl -s -o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' --cacert "$SITE/certs/root.pem" \
		-H "X-Qlik-Xrfkey: $XRF" "$BASE/qrs/about?xrfkey=$XRF")
	[ "$s" = 403 ]
	[[ "$(jq -r .message "$BATS_TEST_TMPDIR/b")" == *"client certificate is required"* ]]
	other=$BATS_TEST_TMPDIR/other
	"$FATHOM" site create --dir "$other" --share "$other-share" --repository-port 1 --engine-port "$(free_port)" --proxy-port "$(free_port)" --proxy-http-port "$(free_port)" --proxy-api-port "$(free_port)" --hostname localhost >/dev/null
	s=$(curl -s -o "$BATS_TEST_TMPDIR/b" -w '%{http_code}' --cacert "$SITE/certs/root.pem" \
		--cert "$other/certs/client.pem" --key "$other/certs/client_key.pem" \
		-H "X-Qlik-Xrfkey: $XRF" "$BASE/qrs/about?xrfkey=$XRF")
	[ "$s" = 403 ]
	[[ "$(jq -r .message "$BATS_TEST_TMPDIR/b")" == *"not signed by this site"* ]]
}

@test "the API description is generated from the route table" {
	s=$(api GET /qrs/about/api/description); expect 200 "$s"
	jqb '.[]' | grep -q '^GET    /qrs/app/full'
	jqb '.[]' | grep -q '^POST   /qrs/app/upload?name={name}'
	jqb '.[]' | grep -q '^PUT    /qrs/custompropertydefinition/{id}'
	[ "$(jqb '.[]' | grep -c '^POST   /qrs/app$')" = 0 ]
	s=$(api GET "/qrs/about/api/description?method=DELETE&format=JSON"); expect 200 "$s"
	[ "$(jqb '[.[].method]|unique|join(",")')" = DELETE ]
}

@test "servicestatus: a beating node is Running; one that never beat or stopped beating is not" {
	s=$(api GET /qrs/servicestatus/full); expect 200 "$s"
	[ "$(jqb length)" = 1 ]
	[ "$(jqb '.[0].serviceState')" = 2 ]
	[ "$(jqb '.[0].serviceType')" = 0 ]
	[ "$(jqb '.[0].serverNodeConfiguration.name')" = node1 ]
	[ "$(jqb '.[0].schemaPath')" = ServiceStatus ]
	# Fathom's: the heartbeat's version, start and engine, and the central role's lease
	[ "$(jqb '.[0].version')" = "$("$FATHOM" version | cut -d' ' -f2)" ]
	[[ "$(jqb '.[0].startedAt')" == 20* ]]
	[[ "$(jqb '.[0].engineSessions')" =~ ^[0-9]+$ ]]; [[ "$(jqb '.[0].appsLoaded')" =~ ^[0-9]+$ ]]
	[ "$(jqb '.[0].centralToken')" = "$(sql "SELECT token FROM central_lease")" ]
	[ "$(jqb '.[0].centralSince')" = "$(sql "SELECT changed_at FROM central_lease")" ]
	t1=$(jqb '.[0].timestamp')
	sleep 2.2
	s=$(api GET /qrs/servicestatus); t2=$(jqb '.[0].timestamp')
	[[ "$t2" > "$t1" ]]                      # the node heartbeats every second here
	s=$(json POST /qrs/servernodeconfiguration '{"name":"node2","hostName":"h2"}'); expect 201 "$s"
	id2=$(jqb .id)
	s=$(api GET /qrs/servicestatus); expect 200 "$s"
	[ "$(jqb length)" = 2 ]
	[ "$(jqb ".[] | select(.id == \"$id2\") | .serviceState")" = 3 ]
	[ "$(jqb ".[] | select(.id == \"$id2\") | .timestamp")" = 1753-01-01T00:00:00.000Z ]
	sql "INSERT INTO node_heartbeat (node_id, at, started_at, version, pid) VALUES ('$id2',
		'2000-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z', 'x', 1)"
	s=$(api GET /qrs/servicestatus)
	[ "$(jqb ".[] | select(.id == \"$id2\") | .serviceState")" = 3 ]
	[ "$(jqb ".[] | select(.id == \"$id2\") | .timestamp")" = 2000-01-01T00:00:00.000Z ]
	s=$(api GET /qrs/servicestatus/count); [ "$(jqb .value)" = 2 ]
	s=$(api GET "/qrs/servicestatus?filter=serviceState%20eq%202"); expect 400 "$s"
	sql "DELETE FROM node_heartbeat WHERE node_id = '$id2'"
	s=$(api DELETE "/qrs/servernodeconfiguration/$id2"); expect 204 "$s"
}
