#!/usr/bin/env bats
# App files: upload, copy, export and download, publish, replace, delete, and the bad
# inputs around them, checked against the share and the repository database.

load helpers

setup_file() { site_up --max-upload-bytes 20000000; }
teardown_file() { site_down; }

setup() {
	APPFILE=$BATS_TEST_TMPDIR/app.qvf
	app_file "$APPFILE" 1500000
}

@test "upload stores the file as a generation with its size and SHA-256" {
	s=$(upload Sales "$APPFILE"); expect 201 "$s"
	id=$(jqb .id)
	[ "$(jqb .name)" = Sales ]; [ "$(jqb .fileSize)" = "$(stat -c %s "$APPFILE")" ]; [ "$(jqb .published)" = false ]
	[ "$(jqb .publishTime)" = 1753-01-01T00:00:00.000Z ]; [ "$(jqb .stream)" = null ]
	gen=$(sql "SELECT generation FROM app WHERE id = '$id'")
	cmp "$SHARE/Apps/$id.$gen" "$APPFILE"
	[ "$(sql "SELECT file_sha256 FROM app WHERE id = '$id'")" = \
	  "$(sha256sum "$APPFILE" | cut -d' ' -f1)" ]
	check_consistency
}

@test "upload of a chunked body works" {
	s=$(api POST "/qrs/app/upload?name=Chunked" -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/vnd.qlik.sense.app' --data-binary @"$APPFILE"); expect 201 "$s"
	[ "$(jqb .fileSize)" = "$(stat -c %s "$APPFILE")" ]
	check_consistency
}

@test "upload refusals leave nothing behind" {
	before=$(rows app); files=$(app_files | wc -l)
	s=$(upload "" "$APPFILE"); expect 400 "$s"
	s=$(api POST "/qrs/app/upload" --data-binary @"$APPFILE"); expect 400 "$s"
	s=$(upload "a%2Fb" "$APPFILE"); expect 400 "$s"; [[ "$(jqb .message)" == *separators* ]]
	s=$(upload "a%5Cb" "$APPFILE"); expect 400 "$s"
	s=$(upload "a%01b" "$APPFILE"); expect 400 "$s"; [[ "$(jqb .message)" == *control* ]]
	: >"$BATS_TEST_TMPDIR/empty"
	s=$(upload Empty "$BATS_TEST_TMPDIR/empty"); expect 400 "$s"
	app_file "$BATS_TEST_TMPDIR/big" 20000001
	s=$(upload Big "$BATS_TEST_TMPDIR/big"); expect 413 "$s"
	s=$(api POST "/qrs/app/upload?name=BigChunked" -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/big"); expect 413 "$s"
	[ "$(rows app)" = "$before" ]
	[ "$(app_files | wc -l)" = "$files" ]
	check_consistency
}

@test "an upload that is not a valid app file gets 400 naming the problem, and leaves nothing" {
	before=$(rows app); files=$(app_files | wc -l)
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/random"
	s=$(upload Random "$BATS_TEST_TMPDIR/random"); expect 400 "$s"
	[[ "$(jqb .message)" == *"not a Fathom app file"* ]]
	# one byte changed in the middle of a block: its checksum fails
	cp "$APPFILE" "$BATS_TEST_TMPDIR/damaged"
	flip_byte "$BATS_TEST_TMPDIR/damaged" 700000
	s=$(upload Damaged "$BATS_TEST_TMPDIR/damaged"); expect 400 "$s"
	[[ "$(jqb .message)" == *"damaged"* ]]
	# cut short
	head -c 1000000 "$APPFILE" >"$BATS_TEST_TMPDIR/short"
	s=$(upload Short "$BATS_TEST_TMPDIR/short"); expect 400 "$s"
	[[ "$(jqb .message)" == *"cut off"* ]]
	# a newer format version
	cp "$APPFILE" "$BATS_TEST_TMPDIR/newer"
	printf '\x09' | dd of="$BATS_TEST_TMPDIR/newer" bs=1 seek=10 conv=notrunc 2>/dev/null
	s=$(upload Newer "$BATS_TEST_TMPDIR/newer"); expect 400 "$s"
	[[ "$(jqb .message)" == *"format version 9"* ]]
	[ "$(rows app)" = "$before" ]
	[ "$(app_files | wc -l)" = "$files" ]
	check_consistency
}

@test "fathom app create adds an app with its script" {
	printf 'T: LOAD * INLINE [A\n1];\n' >"$BATS_TEST_TMPDIR/s.qvs"
	before=$(rows app)
	run "$FATHOM" app create "From CLI" --dir "$SITE" --script "$BATS_TEST_TMPDIR/s.qvs"
	[ "$status" -eq 0 ]; [[ "$output" == *'created app "From CLI"'* ]]
	[ "$(rows app)" = $((before + 1)) ]
	s=$(api GET "/qrs/app?filter=name%20eq%20'From%20CLI'"); expect 200 "$s"
	[ "$(jqb length)" = 1 ]
	run "$FATHOM" app create "" --dir "$SITE"
	[ "$status" -eq 1 ]
	# objects, and property trees with children, are checked before anything is made
	o=$BATS_TEST_TMPDIR/o.json
	printf '[{"qProperty":{"qInfo":{"qId":"p","qType":"filterpane"}},"qChildren":[{"qProperty":{"qInfo":{"qId":"p","qType":"listbox"}}}]}]' >"$o"
	run "$FATHOM" app create Twice --dir "$SITE" --objects "$o"
	[ "$status" -eq 1 ]; [[ "$output" == *'the id "p" is used twice'* ]]
	printf '[{"qProperty":{"qInfo":{"qId":"p","qType":"filterpane"}},"qChildren":{}}]' >"$o"
	run "$FATHOM" app create NotAList --dir "$SITE" --objects "$o"
	[ "$status" -eq 1 ]; [[ "$output" == *'qChildren must be a list'* ]]
	printf '[{"qProperty":{"qInfo":{"qId":"p","qType":"filterpane"}},"qChildren":[{"qProperty":{"qInfo":{"qType":"listbox"}}}]}]' >"$o"
	run "$FATHOM" app create NoId --dir "$SITE" --objects "$o"
	[ "$status" -eq 1 ]; [[ "$output" == *'object 1 has no qInfo with a qId and a qType'* ]]
	[ "$(rows app)" = $((before + 1)) ]
	check_consistency
}

@test "an upload cut off mid-body leaves no row and no file" {
	before=$(rows app); files=$(app_files | wc -l)
	app_file "$BATS_TEST_TMPDIR/slow" 15000000
	curl -s -o /dev/null --limit-rate 2M -X POST --cacert "$SITE/certs/root.pem" \
		--cert "$SITE/certs/client.pem" --key "$SITE/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
		--data-binary @"$BATS_TEST_TMPDIR/slow" "$BASE/qrs/app/upload?name=Cut&xrfkey=$XRF" &
	cpid=$!
	for _ in $(seq 1 50); do [ -n "$(upload_temps)" ] && break; sleep 0.1; done
	[ -n "$(upload_temps)" ]   # the upload was under way
	kill "$cpid"; wait "$cpid" || true
	for _ in $(seq 1 50); do [ -n "$(upload_temps)" ] || break; sleep 0.1; done
	[ "$(rows app)" = "$before" ]
	[ "$(app_files | wc -l)" = "$files" ]
	check_consistency
}

@test "copy makes a new app with its own file and the same content" {
	s=$(upload Source "$APPFILE"); src=$(jqb .id)
	s=$(api POST "/qrs/app/$src/copy?name=Copied"); expect 201 "$s"
	cid=$(jqb .id)
	[ "$cid" != "$src" ]; [ "$(jqb .name)" = Copied ]; [ "$(jqb .sourceAppId)" = "$src" ]
	[ "$(jqb .fileSize)" = "$(stat -c %s "$APPFILE")" ]
	s=$(api POST "/qrs/app/$src/copy"); expect 201 "$s"; [ "$(jqb .name)" = Source ]
	s=$(api POST "/qrs/app/6baa5c73-af76-48c8-a5e8-c185c86a885c/copy"); expect 404 "$s"
	check_consistency
}

@test "export answers a downloadPath that streams the file once" {
	s=$(upload "Export%20Me" "$APPFILE"); id=$(jqb .id)
	s=$(api GET "/qrs/app/$id/export"); expect 200 "$s"
	token=$(jqb .)
	s=$(api POST "/qrs/app/$id/export/$token"); expect 201 "$s"
	[ "$(jqb .schemaPath)" = AppExportResponse ]; [ "$(jqb .exportToken)" = "$token" ]
	path=$(jqb .downloadPath)
	[[ "$path" == "/tempcontent/$token/Export%20Me.qvf?serverNodeId="* ]]
	curl -s -o "$BATS_TEST_TMPDIR/dl" --cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem" "$BASE$path"
	cmp "$BATS_TEST_TMPDIR/dl" "$APPFILE"
	s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" --cert "$SITE/certs/client.pem" \
		--key "$SITE/certs/client_key.pem" "$BASE$path")
	[ "$s" = 404 ]
	s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SITE/certs/root.pem" "$BASE$path")
	[ "$s" = 403 ]
	t2=$(cat /proc/sys/kernel/random/uuid)
	s=$(api POST "/qrs/app/$id/export/$t2"); expect 201 "$s"
	s=$(api DELETE "/qrs/app/$id/export/$t2"); expect 200 "$s"; [ "$(jqb .cancelled)" = true ]
	s=$(api POST "/qrs/app/$id/export/not-a-guid"); expect 404 "$s"
}

@test "publish puts an app in a stream once" {
	s=$(upload Pub "$APPFILE"); id=$(jqb .id)
	s=$(json POST /qrs/stream '{"name":"PubStream"}'); sid=$(jqb .id)
	s=$(api PUT "/qrs/app/$id/publish?stream=$sid&name=Published%20Name"); expect 200 "$s"
	[ "$(jqb .published)" = true ]; [ "$(jqb .stream.name)" = PubStream ]
	[ "$(jqb .name)" = "Published Name" ]; [ "$(jqb .publishTime)" != 1753-01-01T00:00:00.000Z ]
	s=$(api PUT "/qrs/app/$id/publish?stream=$sid"); expect 400 "$s"
	s=$(api GET "/qrs/app?filter=stream.name%20eq%20'PubStream'"); [ "$(jqb '.[0].id')" = "$id" ]
	s=$(api DELETE "/qrs/stream/$sid"); expect 409 "$s"
	s=$(upload Pub2 "$APPFILE"); id2=$(jqb .id)
	s=$(api PUT "/qrs/app/$id2/publish?stream=6baa5c73-af76-48c8-a5e8-c185c86a885c"); expect 400 "$s"
	s=$(api PUT "/qrs/app/$id2/publish"); expect 400 "$s"
	s=$(api GET "/qrs/app/$id2"); [ "$(jqb .published)" = false ]
}

@test "a published app moves to another stream when a PUT names it; an unpublished one does not publish so" {
	s=$(upload Mover "$APPFILE"); id=$(jqb .id)
	s=$(json POST /qrs/stream '{"name":"MoveFrom"}'); from=$(jqb .id)
	s=$(json POST /qrs/stream '{"name":"MoveTo"}'); to=$(jqb .id)
	s=$(api PUT "/qrs/app/$id/publish?stream=$from"); expect 200 "$s"
	published=$(jqb .publishTime)
	s=$(json PUT "/qrs/app/$id" "$(jq --arg to "$to" '.stream = {"id": $to}' "$(BODY_FILE)")"); expect 200 "$s"
	[ "$(jqb .stream.name)" = MoveTo ]; [ "$(jqb .published)" = true ]; [ "$(jqb .publishTime)" = "$published" ]
	[ "$(sql "SELECT stream_id FROM app WHERE id = '$id'")" = "$to" ]
	# the same stream again, or the body read back unchanged, is no move
	s=$(json PUT "/qrs/app/$id" "$(cat "$(BODY_FILE)")"); expect 200 "$s"; [ "$(jqb .stream.name)" = MoveTo ]
	# a stream that is not there
	s=$(json PUT "/qrs/app/$id" "$(jq '.stream = {"id": "6baa5c73-af76-48c8-a5e8-c185c86a885c"}' "$(BODY_FILE)")"); expect 400 "$s"
	jqb .message | grep -q 'no stream'
	# an unpublished app is published only through /publish
	s=$(upload Stayer "$APPFILE")
	s=$(json PUT "/qrs/app/$(jqb .id)" "$(jq --arg to "$to" '.stream = {"id": $to}' "$(BODY_FILE)")"); expect 400 "$s"
}

@test "replace overwrites the target's content and keeps the source" {
	app_file "$BATS_TEST_TMPDIR/other" 2000
	s=$(upload Target "$APPFILE"); tid=$(jqb .id)
	s=$(upload Newer "$BATS_TEST_TMPDIR/other"); sid=$(jqb .id)
	s=$(api PUT "/qrs/app/$sid/replace?app=$tid"); expect 200 "$s"
	[ "$(jqb .id)" = "$tid" ]; [ "$(jqb .name)" = Target ]; [ "$(jqb .fileSize)" = "$(stat -c %s "$BATS_TEST_TMPDIR/other")" ]
	gen=$(sql "SELECT generation FROM app WHERE id = '$tid'")
	cmp "$SHARE/Apps/$tid.$gen" "$BATS_TEST_TMPDIR/other"
	s=$(api GET "/qrs/app/$sid"); expect 200 "$s"
	s=$(api PUT "/qrs/app/$sid/replace?app=$sid"); expect 400 "$s"
	s=$(api PUT "/qrs/app/$sid/replace"); expect 400 "$s"
	check_consistency
}

@test "upload/replace gives an app a new file and refuses what is not one" {
	app_file "$BATS_TEST_TMPDIR/next" 3000
	s=$(upload Replaced "$APPFILE"); id=$(jqb .id)
	old=$(sql "SELECT generation FROM app WHERE id = '$id'")
	s=$(api POST "/qrs/app/upload/replace?targetappid=$id" --data-binary @"$BATS_TEST_TMPDIR/next")
	expect 201 "$s"
	[ "$(jqb .id)" = "$id" ]; [ "$(jqb .name)" = Replaced ]
	[ "$(jqb .fileSize)" = "$(stat -c %s "$BATS_TEST_TMPDIR/next")" ]
	gen=$(sql "SELECT generation FROM app WHERE id = '$id'")
	[ "$gen" != "$old" ]
	cmp "$SHARE/Apps/$id.$gen" "$BATS_TEST_TMPDIR/next"
	# refusals change nothing
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/noise"
	s=$(api POST "/qrs/app/upload/replace?targetappid=$id" --data-binary @"$BATS_TEST_TMPDIR/noise")
	expect 400 "$s"
	s=$(api POST "/qrs/app/upload/replace?targetappid=no-such-app" --data-binary @"$APPFILE")
	expect 404 "$s"
	s=$(api POST "/qrs/app/upload/replace" --data-binary @"$APPFILE"); expect 400 "$s"
	[ "$(sql "SELECT generation FROM app WHERE id = '$id'")" = "$gen" ]
	check_consistency
}

@test "delete removes the row and every file of the app" {
	s=$(upload Gone "$APPFILE"); id=$(jqb .id)
	s=$(upload Donor "$APPFILE"); donor=$(jqb .id)
	s=$(api PUT "/qrs/app/$donor/replace?app=$id"); expect 200 "$s"
	[ "$(app_files | grep -c "^$id\.")" = 2 ]
	s=$(api DELETE "/qrs/app/$id"); expect 204 "$s"
	[ "$(rows app "WHERE id = '$id'")" = 0 ]
	[ "$(app_files | grep -c "^$id\." || true)" = 0 ]
	s=$(api DELETE "/qrs/app/$id"); expect 404 "$s"
	check_consistency
}

@test "app fields can be edited; read-only ones cannot" {
	s=$(upload Editable "$APPFILE"); id=$(jqb .id); md=$(jqb .modifiedDate)
	s=$(json PUT "/qrs/app/$id" "{\"description\":\"multi\\nline\",\"modifiedDate\":\"$md\"}"); expect 200 "$s"
	[ "$(jqb .description)" = "$(printf 'multi\nline')" ]
	md=$(jqb .modifiedDate)
	s=$(json PUT "/qrs/app/$id" "{\"fileSize\":1,\"modifiedDate\":\"$md\"}"); expect 400 "$s"
	s=$(json PUT "/qrs/app/$id" "{\"name\":\"x/y\",\"modifiedDate\":\"$md\"}"); expect 400 "$s"
}

@test "an app's objects are read from its file: sheets, charts and their sheet, script variables" {
	printf "SET vRegion = 'North';\nT: LOAD 1 AS x AUTOGENERATE 1;\n" >"$BATS_TEST_TMPDIR/vars.qvs"
	printf '[{"qInfo":{"qId":"sh1","qType":"sheet"},"qMetaDef":{"title":"First"},"qChildren":[{"qInfo":{"qId":"ch1","qType":"barchart"},"title":"Sales by region"}]},{"qInfo":{"qId":"bm1","qType":"bookmark"},"qMetaDef":{"title":"North"}}]' >"$BATS_TEST_TMPDIR/objects.json"
	"$FATHOM" app create Objects --dir "$SITE" --objects "$BATS_TEST_TMPDIR/objects.json" --script "$BATS_TEST_TMPDIR/vars.qvs" >/dev/null
	expect 200 "$(api GET "/qrs/app?filter=name%20eq%20'Objects'")"
	id=$(jqb '.[0].id')
	expect 200 "$(api GET "/qrs/app/$id/objects")"
	[ "$(jqb -c '[.[] | [.objectType, .name, .engineObjectId, .parent]]')" = '[["barchart","Sales by region","ch1","sh1"],["bookmark","North","bm1",null],["sheet","First","sh1",null]]' ]
	# a reload adds the script's variables as objects made by the script
	expect 204 "$(api POST "/qrs/app/$id/reload")"
	expect 200 "$(api GET "/qrs/app/$id/objects")"
	[ "$(jqb -c '[.[] | select(.objectType == "variable" and .scriptCreated) | .name]')" = '["vRegion"]' ]
	[ "$(jqb '[.[] | select(.objectType == "sheet")] | length')" = 1 ]
	# an app without a file, and one that is not there
	expect 404 "$(api GET /qrs/app/00000000-0000-0000-0000-000000000001/objects)"
}
