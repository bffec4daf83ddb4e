#!/usr/bin/env bash
# deps.sh: install every Debian package that building, running and testing Fathom needs.
# Idempotent: installs only what is missing, and runs apt-get update first when it must.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  # the allocation-failure mode's library copy (objcopy, ar) comes with build-essential;
  # fuzz coverage reports (scripts/fuzz-coverage) need llvm-profdata and llvm-cov
  llvm
  libhttp-parser-dev libwslay-dev libcurl4-gnutls-dev libjansson-dev libsqlite3-dev
  libpq-dev libsodium-dev libgnutls28-dev libzstd-dev libinih-dev libcmocka-dev
  # the checksum of app file blocks stored as they are (XXH3)
  libxxhash-dev
  # Excel workbooks (.xlsx): ZIP archives of XML parts
  libexpat1-dev zlib1g-dev
  sqlite3 bats curl jq bc procps util-linux openssl gnutls-bin postgresql-15 postgresql-client-15
  tzdata
  # sleep and seq as the test suites' shell builtins (tests/integration/helpers.bash)
  bash-builtins
  # the load balancer in front of several nodes' proxies (tests/integration/cluster.bats)
  haproxy
  # benchmarks only: the nginx baseline, and the previous transport that bench/transport_run
  # builds for its before-and-after figure
  nginx libmicrohttpd-dev
  # bench/backup_run: the tar | zstd baseline
  zstd
  # the fault suite (tests/faults): hosts in network namespaces, partitions with nftables,
  # rate limits with tc, and the share served by sshd and mounted with sshfs (FUSE)
  iproute2 nftables openssh-server openssh-client sshfs fuse3
  # ... or by Samba and mounted with smbnetfs (FUSE, libsmbclient)
  samba smbnetfs
  # ... and one node's wall clock stepped (LD_PRELOAD)
  libfaketime
  # the browsers that the hub's tests drive (playwright-core from npm, no browser download;
  # Firefox through WebDriver BiDi)
  chromium firefox-esr
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "deps: all packages present" >&2
fi

# Node.js and npm run the QIX client suite (tests/qix: enigma.js from npm, as pinned in its
# package-lock.json). The machine's own Node.js is used when there is one.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing nodejs npm" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
# Each npm project: the QIX client suite, the test identity provider (oidc-provider), the
# web apps with their browser tests, and DuckDB (the engine benchmark's peer, and the
# differential test's).
root="$(cd "$(dirname "$0")/.." && pwd)"
for d in tests/qix tests/idp web bench/duckdb; do
  if [ ! -d "$root/$d/node_modules" ] || [ "$root/$d/package-lock.json" -nt "$root/$d/node_modules" ]; then
    echo "deps: npm ci in $d" >&2
    (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$root/$d/node_modules"
  fi
done
