#!/usr/bin/env bats
# backup.bats: `fathom backup`, `fathom backup verify` and `fathom restore` on a running
# site: the backup taken while the node serves (and while apps are uploaded), verified,
# and restored onto a new site on SQLite and on PostgreSQL, which then serves the same
# apps, streams, tasks and users with the same ids and the same files; a damaged backup
# refused, naming the file, with nothing made.

load helpers

setup_file() {
	site_up
	export B=$BATS_FILE_TMPDIR/backup
	local id
	id=$(new_app Sales 'T: LOAD * INLINE [\nRegion, Amount\nNorth, 5\nSouth, 7\n];')
	json POST /qrs/stream '{"name":"Finance"}' >/dev/null
	local stream
	stream=$(jqb .id)
	api PUT "/qrs/app/$id/publish?stream=$stream" >/dev/null
	new_app Budget 'B: LOAD 1 AS x AUTOGENERATE 3;' >/dev/null
	json POST /qrs/reloadtask/create "{\"task\":{\"name\":\"Nightly\",\"app\":{\"id\":\"$id\"}}}" >/dev/null
	printf 'reader password\n' | "$FATHOM" user add reader --dir "$SITE" >/dev/null
	mkdir -p "$SHARE/CustomData/sales"
	printf 'Region,Target\nNorth,10\n' >"$SHARE/CustomData/sales/targets.csv"
	printf 'logo' >"$SHARE/StaticContent/Content/logo.txt"
	mkdir -p "$SHARE/ArchivedLogs/Reload"
	printf 'a reload log\n' >"$SHARE/ArchivedLogs/Reload/kept.log"
	printf 'half copied' >"$SHARE/ArchivedLogs/Reload/copying.log.part"
	entities >"$BATS_FILE_TMPDIR/before"
}

teardown_file() {
	[ -f "$SITE/pid" ] && stop_node "$SITE"
	site_down
}

# entities: the site's apps (with their files' sizes), streams, tasks and users, by id.
entities() {
	api GET /qrs/app/full >/dev/null
	jqb -c '[.[] | {id, name, stream: .stream.name, size: .fileSize}] | sort_by(.id)'
	api GET /qrs/stream >/dev/null
	jqb -c '[.[] | {id, name}] | sort_by(.id)'
	api GET /qrs/reloadtask/full >/dev/null
	jqb -c '[.[] | {id, name, app: .app.id}] | sort_by(.id)'
	api GET /qrs/user >/dev/null
	jqb -c '[.[] | {id, userId, userDirectory}] | sort_by(.id)'
}

# on_node DIR SHARE CMD...: runs CMD with the helpers pointed at the node in DIR.
on_node() {
	local dir=$1 share=$2
	shift 2
	SITE=$dir SHARE=$share "$@"
}

@test "a running site backs up; the backup verifies and restores onto a new site that serves the same" {
	run "$FATHOM" backup --dir "$SITE" --to "$B"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"backed up 2 apps"* ]]
	[ -f "$B/manifest.json" ]; [ ! -e "$B.partial" ]
	run "$FATHOM" backup verify "$B"
	[ "$status" -eq 0 ]; [[ "$output" == *"complete"* ]]
	# the repository is one snapshot: every app row names a file in the backup
	[ "$(jq '.apps | length' "$B/manifest.json")" -eq 2 ]
	for f in $(jq -r '.apps[] | "\(.[0]).\(.[1])"' "$B/manifest.json"); do [ -f "$B/apps/$f" ]; done
	# a second backup to the same path is refused
	run "$FATHOM" backup --dir "$SITE" --to "$B"
	[ "$status" -eq 1 ]; [[ "$output" == *"exists already"* ]]

	# the new site takes the old one's ports: stop the old one first
	stop_node "$SITE"
	local d2=$BATS_TEST_TMPDIR/site2 s2=$BATS_TEST_TMPDIR/share2
	run "$FATHOM" restore --from "$B" --dir "$d2" --share "$s2" --quiet
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -q "^path = $d2/repository.db" "$d2/node.conf"
	# the restored service cluster names the new share's folders; node.conf only its mount
	grep -q "^root = $s2$" "$d2/node.conf"
	! grep -q "^apps = " "$d2/node.conf" || false
	run "$FATHOM" config show --dir "$d2"
	[[ "$output" == *"share.apps = $s2/Apps (the service cluster's)"* ]]
	[ "$(sqlite3 "$d2/repository.db" "SELECT connectionstring FROM dataconnection WHERE name = 'CustomData'")" = "$s2/CustomData" ]
	cmp "$SHARE/CustomData/sales/targets.csv" "$s2/CustomData/sales/targets.csv"
	cmp "$SHARE/StaticContent/Content/logo.txt" "$s2/StaticContent/Content/logo.txt"
	# the archived logs too, but not a file still being copied in
	cmp "$SHARE/ArchivedLogs/Reload/kept.log" "$s2/ArchivedLogs/Reload/kept.log"
	[ ! -e "$s2/ArchivedLogs/Reload/copying.log.part" ]
	start_node "$d2"
	on_node "$d2" "$s2" entities >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_FILE_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	on_node "$d2" "$s2" check_consistency
	# the restored site works: its app reloads
	local id
	id=$(jq -r '.[0].id' "$BATS_TEST_TMPDIR/after" | head -1)
	local s
	s=$(SITE=$d2 api POST "/qrs/app/$id/reload")
	[[ "$s" == 2* ]] || { cat "$(BODY_FILE)"; false; }
	stop_node "$d2"
	# a restore onto folders that are not empty is refused, and changes nothing there
	run "$FATHOM" restore --from "$B" --dir "$d2" --share "$BATS_TEST_TMPDIR/share3"
	[ "$status" -eq 1 ]; [[ "$output" == *"not empty"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/share3" ]
	start_node "$SITE"
}

@test "a backup taken while apps are uploaded holds every file its repository names" {
	"$FATHOM" app file --out "$BATS_TEST_TMPDIR/up.qvf" --padding-bytes 4000000 >/dev/null
	(for i in $(seq 1 40); do upload "Upload$i" "$BATS_TEST_TMPDIR/up.qvf" >/dev/null; done) &
	local loop=$!
	sleep 0.3
	local b2=$BATS_TEST_TMPDIR/b2
	run "$FATHOM" backup --dir "$SITE" --to "$b2" --quiet
	wait "$loop"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run "$FATHOM" backup verify "$b2"
	[ "$status" -eq 0 ]
	local n
	n=$(jq '.apps | length' "$b2/manifest.json")
	[ "$n" -ge 2 ]; [ "$n" -le 42 ]
	stop_node "$SITE"
	local d3=$BATS_TEST_TMPDIR/site3 s3=$BATS_TEST_TMPDIR/share3
	"$FATHOM" restore --from "$b2" --dir "$d3" --share "$s3" --quiet
	start_node "$d3"
	on_node "$d3" "$s3" check_consistency
	SITE=$d3 api GET /qrs/app/count >/dev/null
	[ "$(jqb .value)" -eq "$n" ]
	stop_node "$d3"
	start_node "$SITE"
}

@test "a backup streams to stdout as one .tar.zst, verifies and restores from a pipe; a cut stream is refused" {
	local a=$BATS_TEST_TMPDIR/site.tar.zst long
	entities >"$BATS_TEST_TMPDIR/now"
	# a path longer than ustar's 100 bytes goes in a pax header
	long=reports/$(printf 'quarterly-%.0s' 1 2 3 4 5 6 7 8)/$(printf 'regional-%.0s' 1 2 3 4 5 6).csv
	mkdir -p "$SHARE/CustomData/$(dirname "$long")"
	printf 'long,path\n' >"$SHARE/CustomData/$long"
	# to stdout, through a pipe, while the site serves; the summary goes to stderr
	"$FATHOM" backup --dir "$SITE" --to - 2>"$BATS_TEST_TMPDIR/err" | cat >"$a"
	[ "${PIPESTATUS[0]}" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
	grep -qE "^backed up [0-9]+ apps and [0-9]+ files to stdout$" "$BATS_TEST_TMPDIR/err"
	# a tar archive compressed with zstd, that tar itself reads, the manifest last
	zstd -t -q "$a"
	tar --zstd -tf "$a" >"$BATS_TEST_TMPDIR/list"
	[ "$(head -1 "$BATS_TEST_TMPDIR/list")" = repository.jsonl ]
	[ "$(tail -1 "$BATS_TEST_TMPDIR/list")" = manifest.json ]
	grep -q '^apps/' "$BATS_TEST_TMPDIR/list"; grep -q '^custom/sales/targets.csv$' "$BATS_TEST_TMPDIR/list"
	grep -qx "custom/$long" "$BATS_TEST_TMPDIR/list"
	run "$FATHOM" backup verify "$a"
	[ "$status" -eq 0 ]; [[ "$output" == *"files match the manifest"* ]]
	run bash -c "'$FATHOM' backup verify - <'$a'"
	[ "$status" -eq 0 ]; [[ "$output" == *"files match the manifest"* ]]
	# to a named .tar.zst: one file, the same listing
	"$FATHOM" backup --dir "$SITE" --to "$BATS_TEST_TMPDIR/named.tar.zst" --quiet
	[ ! -e "$BATS_TEST_TMPDIR/named.tar.zst.partial" ]
	[ "$(tar --zstd -tf "$BATS_TEST_TMPDIR/named.tar.zst" | wc -l)" = "$(wc -l <"$BATS_TEST_TMPDIR/list")" ]
	# a stream cut short is refused, and restores nothing
	head -c $(($(stat -c %s "$a") / 2)) "$a" >"$BATS_TEST_TMPDIR/cut.tar.zst"
	run "$FATHOM" backup verify "$BATS_TEST_TMPDIR/cut.tar.zst"
	[ "$status" -eq 1 ]; [[ "$output" == *"stops short"* ]]
	run "$FATHOM" restore --from "$BATS_TEST_TMPDIR/cut.tar.zst" --dir "$BATS_TEST_TMPDIR/dc" --share "$BATS_TEST_TMPDIR/sc"
	[ "$status" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/dc" ]; [ ! -e "$BATS_TEST_TMPDIR/sc" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep fathom-unpack || true)" ]
	# an archive with a path outside the backup is refused before anything is written
	mkdir -p "$BATS_TEST_TMPDIR/evil/x"; printf 'x' >"$BATS_TEST_TMPDIR/evil/x/f"
	tar --zstd -cf "$BATS_TEST_TMPDIR/evil.tar.zst" -C "$BATS_TEST_TMPDIR/evil" --transform 's,^x,../x,' x/f
	run "$FATHOM" backup verify "$BATS_TEST_TMPDIR/evil.tar.zst"
	[ "$status" -eq 1 ]; [[ "$output" == *"not a plain file under a relative path"* ]]
	# restored from a pipe, the new site serves the same
	stop_node "$SITE"
	local d8=$BATS_TEST_TMPDIR/site8 s8=$BATS_TEST_TMPDIR/share8
	run bash -c "'$FATHOM' restore --from - --dir '$d8' --share '$s8' --quiet <'$a'"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep fathom-unpack || true)" ]
	start_node "$d8"
	on_node "$d8" "$s8" entities >"$BATS_TEST_TMPDIR/piped"
	diff "$BATS_TEST_TMPDIR/now" "$BATS_TEST_TMPDIR/piped"
	cmp "$SHARE/CustomData/sales/targets.csv" "$s8/CustomData/sales/targets.csv"
	cmp "$SHARE/CustomData/$long" "$s8/CustomData/$long"
	stop_node "$d8"
	start_node "$SITE"
}

@test "a damaged backup is refused by verify and restore, naming the file, and nothing is made" {
	[ -f "$B/manifest.json" ] || skip "needs the first test's backup"
	local bad=$BATS_TEST_TMPDIR/bad
	cp -r "$B" "$bad"
	local f
	f=$(ls "$bad/apps" | head -1)
	flip_byte "$bad/apps/$f" 100
	run "$FATHOM" backup verify "$bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$bad/apps/$f is damaged"* ]]
	run "$FATHOM" restore --from "$bad" --dir "$BATS_TEST_TMPDIR/d4" --share "$BATS_TEST_TMPDIR/s4"
	[ "$status" -eq 1 ]; [[ "$output" == *"damaged"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/d4" ]; [ ! -e "$BATS_TEST_TMPDIR/s4" ]
	# a truncated repository dump, and a manifest that names a path outside the backup
	cp "$B/apps/$f" "$bad/apps/$f"
	truncate -s -10 "$bad/repository.jsonl"
	run "$FATHOM" backup verify "$bad"
	[ "$status" -eq 1 ]; [[ "$output" == *"repository.jsonl is damaged"* ]]
	cp "$B/repository.jsonl" "$bad/repository.jsonl"
	jq '.files += [{"path": "../../etc/passwd", "size": 1, "sha256": "00"}]' "$B/manifest.json" >"$bad/manifest.json"
	run "$FATHOM" backup verify "$bad"
	[ "$status" -eq 1 ]; [[ "$output" == *"may not"* ]]
	# no manifest: not a backup (what an interrupted backup leaves is PATH.partial)
	rm "$bad/manifest.json"
	run "$FATHOM" backup verify "$bad"
	[ "$status" -eq 1 ]; [[ "$output" == *"is not a backup"* ]]
}

@test "a backup killed half-way or short of disk leaves nothing that looks like one; a restore killed half-way leaves nothing that starts" {
	local b=$BATS_TEST_TMPDIR/killed
	# killed (SIGKILL) while it copies the files: no backup, and what it left is refused
	run env FATHOM_CRASH_POINT=backup-files "$FATHOM" backup --dir "$SITE" --to "$b" --quiet
	[ "$status" -ne 0 ]
	[ ! -e "$b" ]
	run "$FATHOM" backup verify "$b.partial"
	[ "$status" -eq 1 ]; [[ "$output" == *"is not a backup"* ]]
	run "$FATHOM" restore --from "$b.partial" --dir "$BATS_TEST_TMPDIR/r0" --share "$BATS_TEST_TMPDIR/s0" --quiet
	[ "$status" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/r0" ]
	# the next backup to the same place clears what the killed one left, and completes
	"$FATHOM" backup --dir "$SITE" --to "$b" --quiet
	"$FATHOM" backup verify "$b" >/dev/null
	[ ! -e "$b.partial" ]
	# as one archive, killed: no archive
	run env FATHOM_CRASH_POINT=backup-files "$FATHOM" backup --dir "$SITE" --to "$b.tar.zst" --quiet
	[ "$status" -ne 0 ]
	[ ! -e "$b.tar.zst" ]
	# short of disk (a 1 MiB tmpfs, where root may mount one): an error that says so, and
	# nothing left there
	local small=$BATS_TEST_TMPDIR/small
	mkdir "$small"
	if mount -t tmpfs -o size=1m tmpfs "$small" 2>/dev/null; then
		head -c 2000000 /dev/urandom >"$SHARE/CustomData/big.bin"
		run "$FATHOM" backup --dir "$SITE" --to "$small/b" --quiet
		local left
		left=$(ls -A "$small")
		umount "$small"
		rm "$SHARE/CustomData/big.bin"
		[ "$status" -eq 1 ]; [[ "$output" == *"No space left on device"* ]]
		[ -z "$left" ]
	fi
	# a restore killed before it writes node.conf: the folder is no node, and a restore
	# into it says what to do
	local r=$BATS_TEST_TMPDIR/r1 sh=$BATS_TEST_TMPDIR/s1
	run env FATHOM_CRASH_POINT=restore-conf "$FATHOM" restore --from "$b" --dir "$r" --share "$sh" --quiet
	[ "$status" -ne 0 ]
	[ -f "$r/repository.db" ]; [ ! -e "$r/node.conf" ]
	run "$FATHOM" run --dir "$r" $(root_flag)
	[ "$status" -ne 0 ]
	run "$FATHOM" restore --from "$b" --dir "$r" --share "$sh" --quiet
	[ "$status" -eq 1 ]; [[ "$output" == *"no node.conf: what a stopped restore leaves"* ]]
	rm -rf "$r" "$sh"
	"$FATHOM" restore --from "$b" --dir "$r" --share "$sh" --quiet
	[ -f "$r/node.conf" ]
}

@test "a backup restores onto PostgreSQL, and the PostgreSQL site backs up and restores onto SQLite" {
	[ -f "$B/manifest.json" ] || skip "needs the first test's backup"
	pg_up
	stop_node "$SITE"
	local d5=$BATS_TEST_TMPDIR/site5 s5=$BATS_TEST_TMPDIR/share5
	run "$FATHOM" restore --from "$B" --dir "$d5" --share "$s5" --db "$DB_URL" --quiet
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -q '^driver = postgres' "$d5/node.conf"
	! grep -q secret "$d5/node.conf" || false # the password is sealed, not written
	start_node "$d5"
	on_node "$d5" "$s5" entities >"$BATS_TEST_TMPDIR/pg"
	diff "$BATS_FILE_TMPDIR/before" "$BATS_TEST_TMPDIR/pg"
	# a database that holds a repository already is refused
	run "$FATHOM" restore --from "$B" --dir "$BATS_TEST_TMPDIR/d6" --share "$BATS_TEST_TMPDIR/s6" --db "$DB_URL"
	[ "$status" -eq 1 ]; [[ "$output" == *"holds a Fathom repository already"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/d6" ]
	# the PostgreSQL site's own backup, back onto SQLite
	local b3=$BATS_TEST_TMPDIR/b3
	"$FATHOM" backup --dir "$d5" --to "$b3" --quiet
	[ "$(jq -r .database "$b3/manifest.json")" = postgres ]
	stop_node "$d5"
	local d7=$BATS_TEST_TMPDIR/site7 s7=$BATS_TEST_TMPDIR/share7
	"$FATHOM" restore --from "$b3" --dir "$d7" --share "$s7" --quiet
	start_node "$d7"
	on_node "$d7" "$s7" entities >"$BATS_TEST_TMPDIR/back"
	diff "$BATS_FILE_TMPDIR/before" "$BATS_TEST_TMPDIR/back"
	stop_node "$d7"
	pg_down
	start_node "$SITE"
}
