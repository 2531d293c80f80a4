# shellcheck shell=bash
# Helpers for the tests of the berth command (images now; containers later).
# Each test gets a private engine root; nothing touches /var/lib/berth.
#
# Environment: BUILD_DIR (as helpers.bash), BERTH (default
# $BUILD_DIR/src/cmd/berth/berth), ASAN_REPORT_DIR.

load helpers

BERTH="${BERTH:-$BUILD_DIR/src/cmd/berth/berth}"

setup() {
	[[ -x "$BERTH" ]] || fail "berth not found: $BERTH"
	BROOT="$BATS_TEST_TMPDIR/berth"
	mkdir -p "$BROOT"
}

teardown() {
	local cmd
	for cmd in "${TEARDOWN_CMDS[@]}"; do eval "$cmd" || true; done
	remove_all_containers
	check_asan_reports
}

# Whatever a test left running: its containers, their monitors and mounts.
remove_all_containers() {
	[[ -f "$BROOT/berth.db" ]] || return 0
	local ids
	ids="$("$BERTH" --root "$BROOT" ps -aq --no-trunc 2>/dev/null)" || true
	[[ -z "$ids" ]] || timeout 60 "$BERTH" --root "$BROOT" rm -f $ids >/dev/null 2>&1 || true
	grep -F " $BROOT/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# What a container leaves outside itself, for checking that nothing leaks:
# mounts under the root, cgroups named after it, its directories.
leftovers() { # ID
	grep -F "$1" /proc/self/mountinfo | awk '{print "mount " $5}'
	find /sys/fs/cgroup -maxdepth 3 -name "$1" 2>/dev/null | sed 's/^/cgroup /'
	ls -d "$BROOT/containers/$1" "$BROOT/run/containers/$1" "$BROOT/run/runtime/$1" 2>/dev/null | sed 's/^/dir /'
	true
}

berth() { timeout --kill-after=5 "$E2E_TIMEOUT" "$BERTH" --root "$BROOT" "$@"; }

# store_snapshot: what the store holds (blob and layer names, tags, images),
# to check that a failed command left it exactly as it was.
store_snapshot() {
	{
		ls "$BROOT/blobs/sha256" 2>/dev/null
		ls "$BROOT/layers" 2>/dev/null
		ls -A "$BROOT/tmp" 2>/dev/null | sed 's/^/tmp:/'
		sqlite3_dump
	} | sort
}

sqlite3_dump() {
	[[ -f "$BROOT/berth.db" ]] || return 0
	python3 - "$BROOT/berth.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for table in ("images", "tags", "repo_digests", "layers", "image_layers"):
    for row in db.execute("SELECT * FROM %s ORDER BY 1" % table):
        print(table, *[r for r in row if table != "images" or r != row[-1]])
PY
}

# The layer directory of an image's top (or Nth, from 0) layer.
layer_dir() { # IMAGE [N]
	local dirs
	dirs="$(berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' "$1")" || return 1
	tr ':' '\n' <<<"$dirs" | sed -n "$((${2:-0} + 1))p"
}

# start_registry [htpasswd-file]: Debian's docker-registry on a free
# loopback port with its own storage; sets REGISTRY (host:port) and
# REGISTRY_DIR, and stops it at teardown.
start_registry() {
	command -v docker-registry >/dev/null || skip "docker-registry not installed"
	REGISTRY_DIR="$BATS_TEST_TMPDIR/registry"
	mkdir -p "$REGISTRY_DIR/data"
	local port
	port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
	REGISTRY="127.0.0.1:$port"
	{
		echo "version: 0.1"
		echo "log: {level: info, accesslog: {disabled: false}}"
		echo "storage: {filesystem: {rootdirectory: $REGISTRY_DIR/data}, delete: {enabled: true}}"
		echo "http: {addr: $REGISTRY}"
		if [[ -n "${1:-}" ]]; then
			echo "auth: {htpasswd: {realm: berth-test, path: $1}}"
		fi
	} >"$REGISTRY_DIR/config.yml"
	docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
	local pid=$!
	on_teardown "kill $pid; wait $pid"
	retry 100 0.05 curl -s -o /dev/null "http://$REGISTRY/v2/" || fail "registry did not start: $(cat "$REGISTRY_DIR/log")"
}

# A bcrypt htpasswd line for USER PASSWORD, as docker-registry reads.
htpasswd_line() {
	python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2"
}
