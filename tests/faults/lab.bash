# lab.bash: a small site spread over hosts, for the fault suite. Each host is a network
# namespace with its own address on one bridge: `db` runs PostgreSQL 15, `sh` serves the
# share over SSH (sshd's SFTP), and each node host (`n1`, `n2`, ...) mounts that share with
# sshfs (FUSE) in a mount namespace of its own, at the same path on every node, as hosts
# would. The test (the root namespace) reaches every host through the bridge and reads
# the share server's folder directly, as the truth the checker compares with.
#
# With LAB_SHARE=smb, `sh` serves the share with Samba (SMB 2 and 3) instead, and each node
# host mounts it with smbnetfs (FUSE, libsmbclient) and binds the share's folder at the
# same path.
#
# Needs root, iproute2, nftables, sshfs, openssh-server and /dev/fuse (and samba and
# smbnetfs for LAB_SHARE=smb); lab_can says why not.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
LAB_FAKETIME=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1

# lab_can: empty when this machine can host the lab, else the reason.
lab_can() {
	[ "$(id -u)" -eq 0 ] || { echo "the fault lab needs root (network namespaces)"; return; }
	[ -c /dev/fuse ] || { echo "the fault lab needs /dev/fuse"; return; }
	local t
	[ -f "$LAB_FAKETIME" ] || { echo "the fault lab needs libfaketime (scripts/deps.sh)"; return; }
	for t in ip nft tc nsenter unshare sshfs /usr/sbin/sshd ssh-keygen; do
		command -v "$t" >/dev/null || { echo "the fault lab needs $t (scripts/deps.sh)"; return; }
	done
	if [ "${LAB_SHARE:-sshfs}" = smb ]; then
		for t in /usr/sbin/smbd smbpasswd smbnetfs; do
			command -v "$t" >/dev/null || { echo "the SMB lab needs $t (scripts/deps.sh)"; return; }
		done
	fi
	ip netns add "fxprobe$$" 2>/dev/null || { echo "network namespaces cannot be made here"; return; }
	ip netns del "fxprobe$$"
}

# lab_addr HOST: the host's address.
lab_addr() {
	case $1 in
	db) echo "$LAB_NET.2" ;;
	sh) echo "$LAB_NET.3" ;;
	n*) echo "$LAB_NET.$((10 + ${1#n}))" ;;
	esac
}

# on HOST CMD...: runs CMD in the host's network namespace (and a node host's mount
# namespace, where its share is mounted).
on() {
	local h=$1
	shift
	if [ -e "$LAB/ns/$h" ]; then
		nsenter --mount="$LAB/ns/$h" --net="/run/netns/$LAB_TAG-$h" "$@"
	else
		nsenter --net="/run/netns/$LAB_TAG-$h" "$@"
	fi
}

# lab_host HOST: a namespace with a veth on the bridge.
lab_host() {
	local h=$1 ns=$LAB_TAG-$1
	ip netns add "$ns"
	ip link add "$ns" type veth peer name eth0 netns "$ns"
	ip link set "$ns" master "$LAB_TAG-br" up
	ip -n "$ns" addr add "$(lab_addr "$h")/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	echo "$h" >>"$LAB/hosts"
}

# lab_up NODES: the bridge, the db and sh hosts and NODES node hosts; PostgreSQL and sshd
# started; the share mounted on every node host. Exports LAB, LAB_TAG, LAB_NET, DB_URL,
# PGDIR, PGPORT, PGDB, and SHARE (the server's folder: what the nodes see).
lab_up() {
	local nodes=$1 i
	export LAB LAB_TAG LAB_NET
	LAB=$(mktemp -d /tmp/fathom-lab-XXXXXX)
	chmod 755 "$LAB"
	LAB_TAG=fx$(printf '%04x' $((RANDOM % 65536)))
	# a /24 no interface here uses yet
	for _ in $(seq 1 50); do
		LAB_NET=10.231.$((1 + RANDOM % 250))
		ip -4 addr | grep -q " $LAB_NET\." || break
	done
	echo "$LAB_TAG $LAB_NET" >"$LAB/tag"
	ip link add "$LAB_TAG-br" type bridge
	ip addr add "$LAB_NET.1/24" dev "$LAB_TAG-br"
	ip link set "$LAB_TAG-br" up
	lab_host db
	lab_host sh
	# mount namespaces of node hosts live as files in a private bind mount
	mkdir -p "$LAB/ns" "$LAB/srv" "$LAB/share" "$LAB/ssh"
	# the share server's disk: a small one of its own
	mount -t tmpfs -o size=256m,mode=755 lab-share "$LAB/srv"
	mount --bind "$LAB/ns" "$LAB/ns"
	mount --make-private "$LAB/ns"
	for i in $(seq 1 "$nodes"); do
		lab_host "n$i"
		touch "$LAB/ns/n$i"
		unshare --mount="$LAB/ns/n$i" --propagation private true
	done
	if [ "${LAB_SHARE:-sshfs}" = smb ]; then
		lab_pg_up && lab_smbd_up || return 1
	else
		lab_pg_up && lab_sshd_up || return 1
	fi
	for i in $(seq 1 "$nodes"); do lab_mount "n$i" || return 1; done
	export SHARE=$LAB/srv
}

lab_pg_up() {
	export PGDIR=$LAB/pg PGPORT=5432 PGDB=fathom DB_URL
	mkdir -p "$PGDIR"
	chown postgres "$PGDIR"
	runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 >"$LAB/initdb.log" 2>&1 || { cat "$LAB/initdb.log" >&2; return 1; }
	echo "host all all $LAB_NET.0/24 scram-sha-256" >>"$PGDIR/data/pg_hba.conf"
	lab_pg_start || return 1
	pg_sql postgres "CREATE ROLE fathom LOGIN PASSWORD 'secret'" >/dev/null
	pg_sql postgres "CREATE DATABASE fathom OWNER fathom" >/dev/null
	DB_URL="postgresql://fathom:secret@$(lab_addr db):5432/fathom"
}

# lab_pg_start: PostgreSQL in the db host (again, after a kill).
lab_pg_start() {
	on db runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
		-o "-p 5432 -k $PGDIR -c listen_addresses=$(lab_addr db)" start >/dev/null ||
		{ tail -20 "$PGDIR/server.log" >&2; return 1; }
}

lab_sshd_up() {
	local k=$LAB/ssh
	ssh-keygen -q -t ed25519 -N '' -f "$k/host"
	ssh-keygen -q -t ed25519 -N '' -f "$k/user"
	cp "$k/user.pub" "$k/authorized_keys"
	chmod 600 "$k/authorized_keys"
	cat >"$k/sshd_config" <<EOF
ListenAddress $(lab_addr sh):22
HostKey $k/host
AuthorizedKeysFile $k/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
PidFile $k/sshd.pid
EOF
	mkdir -p /run/sshd
	on sh /usr/sbin/sshd -f "$k/sshd_config" -E "$k/sshd.log" || { cat "$k/sshd.log" >&2; return 1; }
}

# lab_smbd_up: Samba on the share host, serving $LAB/srv as the share `fathom` to the user
# root (password `lab secret`), SMB 2.1 at least, everything it keeps under $LAB/smb.
lab_smbd_up() {
	local d=$LAB/smb
	mkdir -p "$d/lock" "$d/state" "$d/cache" "$d/private" "$d/ncalrpc"
	cat >"$d/smb.conf" <<EOF
[global]
	workgroup = LAB
	server role = standalone server
	interfaces = $(lab_addr sh)/24
	bind interfaces only = yes
	smb ports = 445
	disable netbios = yes
	server min protocol = SMB2_10
	pid directory = $d
	lock directory = $d/lock
	state directory = $d/state
	cache directory = $d/cache
	private dir = $d/private
	ncalrpc dir = $d/ncalrpc
	passdb backend = tdbsam:$d/private/passdb.tdb
	log file = $d/log.%m
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
[fathom]
	path = $LAB/srv
	read only = no
	valid users = root
	force user = root
EOF
	printf 'lab secret\nlab secret\n' | smbpasswd -c "$d/smb.conf" -s -a root >/dev/null || return 1
	on sh /usr/sbin/smbd -s "$d/smb.conf" -D || { cat "$d"/log.* >&2; return 1; }
	for _ in $(seq 1 50); do
		on sh bash -c "exec 3<>/dev/tcp/$(lab_addr sh)/445" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "smbd did not listen on $(lab_addr sh):445" >&2
	cat "$d"/log.* >&2
	return 1
}

# lab_mount HOST: the share at $LAB/share in the host's mount namespace: over SSH with sshfs,
# or over SMB with smbnetfs (whose folder for the share is bound there). Both reconnect by
# themselves after the network comes back.
lab_mount() {
	local k=$LAB/ssh
	if [ "${LAB_SHARE:-sshfs}" = smb ]; then
		local home=$LAB/$1-smb
		mkdir -p "$home/.smb" "$LAB/smbfs"
		# libsmbclient's own settings, and smbnetfs's: the password for the share host, and
		# a negative cache of 0.1 s (by default one failed call, say of a process killed in
		# the middle of it, fails every call on the share for the next 3 s; and smbnetfs
		# 0.6.3 never finishes starting with neg_cache "false")
		printf '[global]\n\tclient min protocol = SMB2_10\n\tclient max protocol = SMB3\n' \
			>"$home/.smb/smb.conf"
		printf 'auth "%s" "root" "lab secret"\nneg_cache_timeout 100\n' \
			"$(lab_addr sh)" >"$home/.smb/smbnetfs.conf"
		chmod 600 "$home/.smb/smbnetfs.conf"
		on "$1" env HOME="$home" smbnetfs "$LAB/smbfs" || return 1
		on "$1" mount --bind "$LAB/smbfs/$(lab_addr sh)/fathom" "$LAB/share"
		return
	fi
	on "$1" sshfs "root@$(lab_addr sh):$LAB/srv" "$LAB/share" -o \
		"IdentityFile=$k/user,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR,reconnect,ServerAliveInterval=1,ServerAliveCountMax=3,ConnectTimeout=5"
}

lab_down() {
	[ -n "${LAB:-}" ] && [ -d "$LAB" ] || return 0
	local h
	for h in $(grep '^n' "$LAB/hosts" 2>/dev/null); do
		[ -f "$LAB/$h/pid" ] && kill -9 "$(cat "$LAB/$h/pid")" 2>/dev/null
		on "$h" umount -l "$LAB/share" 2>/dev/null
		on "$h" umount -l "$LAB/smbfs" 2>/dev/null
	done
	[ -f "$LAB/ssh/sshd.pid" ] && kill "$(cat "$LAB/ssh/sshd.pid")" 2>/dev/null
	[ -f "$LAB/smb/smbd.pid" ] && kill "$(cat "$LAB/smb/smbd.pid")" 2>/dev/null
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
	for h in $(cat "$LAB/hosts" 2>/dev/null); do
		# whatever still runs in the host (sshfs, a stopped node) goes with it
		ip netns pids "$LAB_TAG-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$LAB_TAG-$h" 2>/dev/null
		ip link del "$LAB_TAG-$h" 2>/dev/null
	done
	ip link del "$LAB_TAG-br" 2>/dev/null
	umount -l "$LAB/ns"/* 2>/dev/null
	umount -l "$LAB/ns" 2>/dev/null
	umount -l "$LAB/srv" 2>/dev/null
	rm -rf "$LAB"
	return 0
}

# ---------------------------------------------------------------- faults

# partition HOST FROM: HOST's packets to and from FROM's address are dropped (no reset:
# the peer just stops answering). heal HOST undoes every partition and loss of HOST.
# stacks HOST: where each thread of HOST's node waits (its system call and kernel stack), to
# show what a request that outlasts its bound is blocked on
stacks() {
	local pid t
	pid=$(cat "$LAB/$1/pid")
	for t in /proc/"$pid"/task/*; do
		echo "== thread ${t##*/} $(cat "$t/comm" 2>/dev/null): $(cat "$t/wchan" 2>/dev/null)"
		cat "$t/stack" 2>/dev/null | head -12
	done
}

partition() {
	local a
	a=$(lab_addr "$2")
	fault_table "$1"
	on "$1" nft add rule inet fault out ip daddr "$a" drop
	on "$1" nft add rule inet fault in ip saddr "$a" drop
}
heal() { on "$1" nft delete table inet fault 2>/dev/null || true; }

fault_table() {
	on "$1" nft list table inet fault >/dev/null 2>&1 && return 0
	on "$1" nft add table inet fault
	on "$1" nft "add chain inet fault out { type filter hook output priority 0 ; }"
	on "$1" nft "add chain inet fault in { type filter hook input priority 0 ; }"
}

# degrade HOST LOSS_PERCENT RATE: a slow, lossy link: LOSS_PERCENT of the host's packets
# dropped each way (nft numgen) and its sending rate held to RATE (tc tbf), whose queue
# delays every packet. This kernel has no netem; these two are what it has.
# degrade HOST off: a normal link again (and no partitions either).
degrade() {
	local h=$1
	if [ "$2" = off ]; then
		on "$h" tc qdisc del dev eth0 root 2>/dev/null || true
		heal "$h"
		return 0
	fi
	fault_table "$h"
	on "$h" nft add rule inet fault out numgen random mod 100 lt "$2" drop
	on "$h" nft add rule inet fault in numgen random mod 100 lt "$2" drop
	on "$h" tc qdisc replace dev eth0 root tbf rate "$3" burst 4kb latency 400ms
}

# ---------------------------------------------------------------- nodes

# lab_node_create HOST: the site's first node on HOST (PostgreSQL, the share).
lab_node_create() {
	on "$1" "$FATHOM" site create --dir "$LAB/$1" --share "$LAB/share" --db "$DB_URL" \
		--hostname "$(lab_addr "$1")" --name "$1" --repository-port 4242 --engine-port 4747 \
		--proxy-port 8443 --proxy-http-port 8080 --proxy-api-port 4243 >/dev/null
}

# lab_node_join HOST FIRST: HOST joins the site of the node on FIRST.
lab_node_join() {
	local pw
	on "$1" "$FATHOM" node join --dir "$LAB/$1" --share "$LAB/share" --db "$DB_URL" --name "$1" \
		--hostname "$(lab_addr "$1")" --repository-port 4242 --engine-port 4747 \
		--proxy-port 8443 --proxy-http-port 8080 --proxy-api-port 4243 >/dev/null || return 1
	pw=$(on "$2" "$FATHOM" node approve "$1" --dir "$LAB/$2" 2>/dev/null) || return 1
	on "$1" "$FATHOM" node join --dir "$LAB/$1" --password "$pw" >/dev/null
}

# lab_start HOST: runs the node on HOST and waits until it answers (up to 30 s).
lab_start() {
	local h=$1 d=$LAB/$1
	# nsenter itself, not the `on` function, so that $! is the node (nsenter execs it); from
	# a subshell that ends at once, so that the node is no child of the test's shell (which
	# would keep it a zombie after a kill, or wait for it)
	# with $d/clock, the node's wall clock is its own (libfaketime reads the offset from
	# it, at most once a second; its monotonic clock stays true): clock_step moves it.
	# Without, no preload (it slows the node down)
	local pre=
	[ -f "$d/clock" ] && pre=$LAB_FAKETIME
	(
		LD_PRELOAD=$pre FAKETIME_TIMESTAMP_FILE=$d/clock FAKETIME_CACHE_DURATION=1 \
			FAKETIME_DONT_FAKE_MONOTONIC=1 \
			nsenter --mount="$LAB/ns/$h" --net="/run/netns/$LAB_TAG-$h" "$FATHOM" run --dir "$d" \
			--allow-root --gc-interval 1 --heartbeat-interval 1 >>"$d/stderr.log" 2>&1 &
		echo $! >"$d/pid"
	)
	lab_wait_up "$h" 30
}

# lab_wait_up HOST SECONDS: waits until the node answers /qrs/about; prints how long it took.
lab_wait_up() {
	local t0 i
	t0=$(date +%s%N)
	for i in $(seq 1 $(($2 * 10))); do
		if [ "$(napi "$1" GET /qrs/about -o /dev/null -w '%{http_code}' -m 2)" = 200 ]; then
			echo $((($(date +%s%N) - t0) / 1000000)) >"$LAB/$1/up_ms"
			return 0
		fi
		sleep 0.1
	done
	echo "node $1 did not answer within $2 s; /qrs/about: $(napi "$1" GET /qrs/about -m 2 2>&1)" >&2
	tail -20 "$LAB/$1/stderr.log" >&2
	return 1
}

# gone PID SECONDS: waits until the process has ended.
gone() {
	for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

# clock_own HOST: restarts the node with a wall clock of its own (see lab_start);
# clock_own HOST off: with the machine's again.
clock_own() {
	lab_stop "$1" || return 1
	if [ "${2:-}" = off ]; then rm -f "$LAB/$1/clock"; else echo "+0" >"$LAB/$1/clock"; fi
	lab_start "$1"
}

# clock_step HOST SECONDS: sets the node's wall clock SECONDS off the machine's (0: true
# again); it takes effect within a second.
clock_step() {
	echo "$(printf '%+d' "$2")" >"$LAB/$1/clock"
	sleep 1.5
}

lab_kill9() {
	local pid
	pid=$(cat "$LAB/$1/pid" 2>/dev/null) || return 0
	kill -9 "$pid" 2>/dev/null || true
	gone "$pid" 30
	rm -f "$LAB/$1/pid"
}

# lab_stop HOST: SIGTERM, and the node gone within 30 s with "stopped" as its last word.
lab_stop() {
	local pid
	pid=$(cat "$LAB/$1/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! gone "$pid" 30; then
		echo "node $1 did not stop within 30 s of SIGTERM" >&2
		tail -20 "$LAB/$1/stderr.log" >&2
		return 1
	fi
	rm -f "$LAB/$1/pid"
	# its exit status is init's to read (see lab_start); a clean stop logs this last
	if ! tail -n 1 "$LAB/$1/stderr.log" | grep -q 'info  stopped$'; then
		echo "node $1 did not stop cleanly:" >&2
		tail -20 "$LAB/$1/stderr.log" >&2
		return 1
	fi
}

# napi HOST METHOD PATH [curl args]: a request to the node on HOST, from the test's side of
# the bridge, with the site's client certificate; prints what curl prints.
napi() {
	local h=$1 m=$2 p=$3 d=$LAB/n1 sep='?'
	shift 3
	[[ "$p" == *\?* ]] && sep='&'
	curl -s -X "$m" --cacert "$d/certs/root.pem" --cert "$d/certs/client.pem" \
		--key "$d/certs/client_key.pem" -H "X-Qlik-Xrfkey: $XRF" \
		"https://$(lab_addr "$h"):4242$p${sep}xrfkey=$XRF" "$@"
}

# writes HOST TAG [OPS]: a client's load through HOST until $LAB/stop exists, a request
# every 200 ms (bounded: each is a curl process and a TLS handshake, and the suite runs
# beside others in make check), logged as "status ms Retry-After name op" to $LAB/load.TAG
# (status 000: no answer within 5 s, or 20 s for uploads and reloads). OPS (default: all)
# names what it does: "tag" creates a tag TAG-i each round; "read" lists TAG's tags every
# third; "upload" uploads a small app TAG-i every tenth, and "reload" reloads TAG's own
# app (load_app, before the fault) every tenth, five rounds after.
writes() {
	local h=$1 t=$2 ops=${3:-tag read upload reload} i=0 app=
	[[ $ops == *reload* ]] && app=$(cat "$LAB/app.$t" 2>/dev/null)
	while [ ! -f "$LAB/stop" ]; do
		i=$((i + 1))
		[[ $ops == *tag* ]] && load_req "$h" "$t" "$t-$i" tag 5 POST /qrs/tag \
			-H 'Content-Type: application/json' --data "{\"name\":\"$t-$i\"}"
		[[ $ops == *read* ]] && [ $((i % 3)) = 0 ] &&
			load_req "$h" "$t" "$t-$i" read 5 GET "/qrs/tag?filter=name%20sw%20'$t-'"
		[[ $ops == *upload* ]] && [ $((i % 10)) = 0 ] &&
			load_req "$h" "$t" "$t-$i" upload 20 POST "/qrs/app/upload?name=$t-$i" \
				-H 'Content-Type: application/vnd.qlik.sense.app' --data-binary @"$LAB/small.fapp"
		[ -n "$app" ] && [ $((i % 10)) = 5 ] && load_req "$h" "$t" "$t-$i" reload 20 POST "/qrs/app/$app/reload"
		sleep 0.2
	done
}

# load_app HOST TAG: uploads TAG's own app through HOST, for the writer to reload; its id
# goes to $LAB/app.TAG.
load_app() {
	[ "$(napi "$1" POST "/qrs/app/upload?name=$2-app" -m 20 -o "$LAB/body.$2" -w '%{http_code}' \
		-H 'Content-Type: application/vnd.qlik.sense.app' --data-binary @"$LAB/small.fapp")" = 201 ] ||
		{ echo "the load's app for $2: $(cat "$LAB/body.$2")" >&2; return 1; }
	jq -r .id "$LAB/body.$2" >"$LAB/app.$2"
}

# load_files: what the load uploads (a small app with a one-table script), made once.
load_files() {
	[ -f "$LAB/small.fapp" ] && return 0
	printf 'T: LOAD RecNo() AS N AUTOGENERATE 100;\n' >"$LAB/small.qvs"
	"$FATHOM" app file --out "$LAB/small.fapp" --script "$LAB/small.qvs" --padding-bytes 20000 >/dev/null
}

# load_req HOST TAG NAME OP SECONDS METHOD PATH [curl args]: one request of the load, logged.
load_req() {
	local h=$1 t=$2 n=$3 op=$4 m=$5 out code retry
	shift 5
	out=$(napi "$h" "$1" "$2" -m "$m" -o /dev/null -D - -w '\n%{http_code} %{time_total}' \
		"${@:3}" 2>/dev/null) || true
	code=$(tail -n 1 <<<"$out")
	retry=$(grep -i '^retry-after:' <<<"$out" | tr -d '\r' | awk '{print $2}')
	echo "${code:-000 $m} ${retry:--} $n $op" >>"$LAB/load.$t"
}

# load_check TAG: every tag and app acknowledged (2xx) is in the repository, and every
# failure is a 503 with Retry-After or no answer at all. Prints "acknowledged failed".
load_check() {
	local t=$1 bad=0 acked failed op table
	acked=$(awk '$1 ~ /^2/' "$LAB/load.$t" | wc -l)
	failed=$(awk '$1 !~ /^2/' "$LAB/load.$t" | wc -l)
	for op in tag upload; do
		table=$op
		[ $op = upload ] && table=app
		pg_sql fathom "SELECT name FROM $table WHERE name LIKE '$t-%'" | sort >"$LAB/have.$t"
		awk -v op=$op '$1 ~ /^2/ && $5 == op { print $4 }' "$LAB/load.$t" | sort >"$LAB/acked.$t"
		if [ -n "$(comm -23 "$LAB/acked.$t" "$LAB/have.$t")" ]; then
			echo "acknowledged and lost ($op): $(comm -23 "$LAB/acked.$t" "$LAB/have.$t" | head)" >&2
			bad=1
		fi
	done
	if awk '$1 !~ /^2/ && !($1 == 503 && $3 != "-") && $1 != "000" { f = 1 } END { exit !f }' \
		"$LAB/load.$t"; then
		echo "failures that are neither 503 with Retry-After nor a time-out:" >&2
		awk '$1 !~ /^2/ && !($1 == 503 && $3 != "-") && $1 != "000"' "$LAB/load.$t" | head >&2
		bad=1
	fi
	echo "$acked $failed"
	return $bad
}

# start_qix HOST TAG [APP]: a person's engine sessions through HOST's proxy, one after
# another (qixload.js), on APP (default: the one named in $LAB/qixapp) with the cookie in
# $LAB/cookie, logged to $LAB/qix.TAG; its pid joins $LAB/writers (stop_writes ends it).
start_qix() {
	node "$(dirname "${BASH_SOURCE[0]}")/qixload.js" "https://$(lab_addr "$1"):8443" \
		"$LAB/n1/certs/root.pem" "$(cat "$LAB/cookie")" "${3:-$(cat "$LAB/qixapp")}" \
		"$LAB/qix.$2" "$LAB/stop" 2>>"$LAB/qix.$2.err" &
	echo $! >>"$LAB/writers"
}

# log_mark HOST: the number of HOST's next log line, for log_since.
log_mark() {
	echo $(($(wc -l <"$LAB/$1/stderr.log") + 1))
}

# log_since HOST MARK PATTERN: whether a line of HOST's log from MARK on matches PATTERN (an
# extended regular expression); a test's check then sees its own lines, not an earlier one's.
log_since() {
	awk -v from="$2" -v pat="$3" 'NR >= from && $0 ~ pat { found = 1 } END { exit !found }' \
		"$LAB/$1/stderr.log"
}

# qix_check TAG: prints "succeeded failed" of TAG's sessions; fails when a session failed
# for another reason than a 503 from the proxy, a time-out or a socket the fault closed.
qix_check() {
	local t=$1 ok failed
	ok=$(grep -c '^ok ' "$LAB/qix.$t") || true
	failed=$(grep -c '^fail ' "$LAB/qix.$t") || true
	echo "$ok $failed"
	# shown when the test fails: a test may count any failure against the fault
	[ "$failed" = 0 ] || { echo "$t's failed sessions:" && grep '^fail ' "$LAB/qix.$t" | head; } >&2
	if grep '^fail ' "$LAB/qix.$t" | grep -vqE '^fail [0-9]+ (503|timeout|Socket closed|.*ECONNRESET|.*ECONNREFUSED|.*socket hang up)'; then
		echo "sessions that failed for another reason:" >&2
		grep '^fail ' "$LAB/qix.$t" | grep -vE '^fail [0-9]+ (503|timeout|Socket closed|.*ECONNRESET|.*ECONNREFUSED|.*socket hang up)' | head >&2
		return 1
	fi
	if [ -s "$LAB/qix.$t.err" ]; then
		cat "$LAB/qix.$t.err" >&2
		return 1
	fi
}
