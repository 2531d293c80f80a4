# shellcheck shell=bash
# Shared helpers of the end-to-end suite. Every .bats file loads this with
# `load helpers`; it provides setup/teardown (a private --root state dir, a
# bundle and a unique container id per test, and a leak check afterwards).
#
# Environment:
#   RUNTIME    runtime under test (default $BUILD_DIR/berth-runtime; may be a
#              command name such as "runc")
#   BUILD_DIR  meson build dir (default "build", relative to the repository)
#   HELPER     the static berth-test-helper (default $BUILD_DIR/berth-test-helper)
#   BUSYBOX    static busybox for the rootfs (default /bin/busybox)
#   E2E_TIMEOUT  seconds before a runtime command is killed (default 60)
#   ASAN_REPORT_DIR  when set, sanitizer reports found there fail the test

bats_require_minimum_version 1.5.0

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" == /* ]] || BUILD_DIR="$REPO_DIR/$BUILD_DIR"
RUNTIME="${RUNTIME:-$BUILD_DIR/berth-runtime}"
if [[ "$RUNTIME" != */* ]]; then
	RUNTIME="$(command -v "$RUNTIME" || echo "$RUNTIME")"
fi
HELPER="${HELPER:-$BUILD_DIR/berth-test-helper}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
E2E_TIMEOUT="${E2E_TIMEOUT:-60}"

# True when the runtime under test is berth-runtime (berth-only strictness).
is_berth() { [[ "$(basename "$RUNTIME")" == berth-runtime* ]]; }
is_runc() { [[ "$(basename "$RUNTIME")" == runc* ]]; }

# Skips the current test unless the runtime is berth-runtime.
berth_only() { is_berth || skip "${1:-berth-specific behaviour} (runtime is $(basename "$RUNTIME"))"; }

# ---------------------------------------------------------------------------
# Per-test setup and teardown
# ---------------------------------------------------------------------------

setup() { e2e_setup; }
teardown() { e2e_teardown; }

e2e_setup() {
	[[ -x "$RUNTIME" ]] || fail "runtime not found or not executable: $RUNTIME"
	[[ -x "$HELPER" ]] || fail "test helper not found: $HELPER (ninja -C BUILD_DIR berth-test-helper)"
	ROOT="$BATS_TEST_TMPDIR/state"
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	CTR_ID="e2e$$-$BATS_TEST_NUMBER"
	CTR_IDS=("$CTR_ID")   # every id a test may have created: teardown deletes them
	CTR_PIDS=()           # host pids of container processes: must be gone afterwards
	EXTRA_CGROUPS=()      # cgroup dir names (besides the ids) that must not survive
	mkdir -p "$ROOT"
	make_bundle "$BUNDLE"
}

# Records another container id created by the test; prints it.
new_id() {
	local id="${CTR_ID}-$1"
	CTR_IDS+=("$id")
	echo "$id"
}

e2e_teardown() {
	local problems=() id p d
	[[ -n "${ROOT:-}" ]] || return 0
	# Force-delete everything this test made (tracked ids and anything listed).
	local listed
	listed="$(runtime list -q 2>/dev/null)" || true
	for id in "${CTR_IDS[@]}" $listed; do
		runtime delete --force "$id" >/dev/null 2>&1 || true
	done
	# Then the test's own cleanup (host mounts, netns, daemons), in reverse.
	local i
	for ((i = ${#TEARDOWN_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${TEARDOWN_CMDS[i]}" >/dev/null 2>&1 || true
	done
	listed="$(runtime list -q 2>/dev/null)" || true
	[[ -z "$listed" ]] || problems+=("containers still listed: $listed")
	for id in "${CTR_IDS[@]}"; do
		[[ ! -e "$ROOT/$id" ]] || problems+=("state dir left: $ROOT/$id")
	done
	# No cgroup named after any of our containers, in any hierarchy.
	local leaked_cg
	leaked_cg="$(find_cgroups "${CTR_IDS[@]}" "${EXTRA_CGROUPS[@]}")"
	if [[ -n "$leaked_cg" ]]; then
		problems+=("cgroups left: $leaked_cg")
		remove_cgroups $leaked_cg
	fi
	# No container process left.
	for p in "${CTR_PIDS[@]}"; do
		if pid_alive "$p"; then
			problems+=("process $p still running: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)")
			kill -9 "$p" 2>/dev/null || true
		fi
	done
	# No mount left in the host namespace under this test's directory.
	local mnts
	mnts="$(awk -v d="$BATS_TEST_TMPDIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)"
	if [[ -n "$mnts" ]]; then
		problems+=("mounts left: $mnts")
		for d in $(echo "$mnts" | sort -r); do umount -l "$d" 2>/dev/null || true; done
	fi
	check_asan_reports || problems+=("sanitizer report(s), see above")
	if ((${#problems[@]})); then
		printf 'LEAK: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

TEARDOWN_CMDS=()
on_teardown() { TEARDOWN_CMDS+=("$*"); }

# A process counts as gone once it has exited (zombies included).
pid_alive() {
	local state
	state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
	[[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# Cgroup directories (any hierarchy) whose name is one of the arguments.
find_cgroups() {
	(($#)) || return 0
	local args=() n
	for n in "$@"; do
		[[ -n "$n" ]] || continue
		((${#args[@]})) && args+=(-o)
		args+=(-name "$n")
	done
	find /sys/fs/cgroup -mindepth 2 -type d \( "${args[@]}" \) 2>/dev/null | sort -r
}

# Kills whatever is left in the given cgroup dirs (and below) and removes
# them, children first.
remove_cgroups() {
	(($#)) || return 0
	local d sub
	for d in "$@"; do
		while read -r sub; do
			[[ -f "$sub/freezer.state" ]] && echo THAWED >"$sub/freezer.state" 2>/dev/null
			xargs -r kill -9 <"$sub/cgroup.procs" 2>/dev/null || true
		done < <(find "$d" -type d 2>/dev/null)
	done
	sleep 0.1
	for d in "$@"; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
}

# Fails when the sanitizer log dir holds new reports (ASan build runs).
check_asan_reports() {
	[[ -n "${ASAN_REPORT_DIR:-}" && -d "$ASAN_REPORT_DIR" ]] || return 0
	local f found=0
	for f in "$ASAN_REPORT_DIR"/*; do
		[[ -f "$f" ]] || continue
		found=1
		echo "=== sanitizer report $f" >&2
		cat "$f" >&2
		mkdir -p "$ASAN_REPORT_DIR.seen"
		mv "$f" "$ASAN_REPORT_DIR.seen/" 2>/dev/null || rm -f "$f"
	done
	((found == 0))
}

# ---------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------

# Builds the busybox + helper root file system once per run; copies it.
base_rootfs() {
	local base="$BATS_RUN_TMPDIR/rootfs.base"
	if [[ ! -e "$base/.complete" ]]; then
		local tmp="$base.$$.$BATS_TEST_NUMBER"
		rm -rf "$tmp"
		mkdir -p "$tmp"/{bin,sbin,etc,tmp,proc,sys,dev,root,home/user,usr/bin,var,run,mnt}
		chmod 1777 "$tmp/tmp"
		cp "$BUSYBOX" "$tmp/bin/busybox"
		cp "$HELPER" "$tmp/bin/helper"
		local a
		for a in $("$BUSYBOX" --list); do
			[[ "$a" == busybox || -e "$tmp/bin/$a" ]] || ln -s busybox "$tmp/bin/$a"
		done
		cat >"$tmp/etc/passwd" <<-'EOF'
			root:x:0:0:root:/root:/bin/sh
			user:x:1000:1000:user:/home/user:/bin/sh
			nobody:x:65534:65534:nobody:/nonexistent:/bin/false
		EOF
		cat >"$tmp/etc/group" <<-'EOF'
			root:x:0:
			wheel:x:10:user
			users:x:100:user
			user:x:1000:
			nogroup:x:65534:
		EOF
		chown 1000:1000 "$tmp/home/user"
		touch "$tmp/.complete"
		mv -T "$tmp" "$base" 2>/dev/null || rm -rf "$tmp"  # another job won the race
	fi
	echo "$base"
}

# make_bundle DIR: DIR/rootfs (busybox, applets, /bin/helper, /etc/passwd,
# /etc/group, /tmp) and DIR/config.json from config.json.in.
make_bundle() {
	local dir="$1" base
	base="$(base_rootfs)"
	mkdir -p "$dir"
	cp -a "$base" "$dir/rootfs"
	rm -f "$dir/rootfs/.complete"
	cp "$E2E_DIR/config.json.in" "$dir/config.json"
}

# update_config JQ-EXPR [JQ-ARGS...]: edits $BUNDLE/config.json (or $CONFIG).
update_config() {
	local cfg="${CONFIG:-$BUNDLE/config.json}" expr="$1"
	shift
	jq "$expr" "$@" <"$cfg" >"$cfg.new" || fail "update_config: jq failed on: $expr"
	mv "$cfg.new" "$cfg"
}

# json_array ARG...: a JSON array of strings (safe for args starting with -).
json_array() {
	local i=0 a jargs=()
	for a in "$@"; do
		jargs+=(--arg "$(printf 'a%05d' $i)" "$a")
		i=$((i + 1))
	done
	jq -nc '[$ARGS.named | to_entries | sort_by(.key)[] | .value]' "${jargs[@]}"
}

# set_args ARG...: process.args of the bundle.
set_args() { update_config '.process.args = $a' --argjson a "$(json_array "$@")"; }

# ---------------------------------------------------------------------------
# Running the runtime
# ---------------------------------------------------------------------------

# runtime ARGS...: the runtime under test with this test's --root.
runtime() {
	timeout --kill-after=5 "$E2E_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@"
}

# create_ctr [ID] [CREATE-OPTS...]: creates with the bundle; the container's
# stdout/stderr go to $BATS_TEST_TMPDIR/ID.out / ID.err. Records the pid.
create_ctr() {
	local id="${1:-$CTR_ID}"
	(($#)) && shift
	runtime create --bundle "$BUNDLE" "$@" "$id" \
		>"$BATS_TEST_TMPDIR/$id.out" 2>"$BATS_TEST_TMPDIR/$id.err" </dev/null || {
		cat "$BATS_TEST_TMPDIR/$id.err" >&2
		return 1
	}
	CTR_PIDS+=("$(ctr_pid "$id")")
}

# start_ctr [ID]: create + start (detached), waits until running.
start_ctr() {
	local id="${1:-$CTR_ID}"
	create_ctr "$@" || return 1
	runtime start "$id" || return 1
}

# ctr_out [ID]: what the container wrote on stdout (create_ctr / start_ctr).
ctr_out() { cat "$BATS_TEST_TMPDIR/${1:-$CTR_ID}.out"; }

ctr_state() { runtime state "${1:-$CTR_ID}"; }
ctr_status() { runtime state "${1:-$CTR_ID}" | jq -r .status; }
ctr_pid() { runtime state "${1:-$CTR_ID}" | jq -r .pid; }

# run_ctr [RUN-OPTS...]: `run` of the bundle in the foreground (for bats run).
run_ctr() { runtime run --bundle "$BUNDLE" "$@" "$CTR_ID" </dev/null; }

# ---------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------

# retry TRIES DELAY CMD...: runs CMD until it succeeds.
retry() {
	local tries="$1" delay="$2" i
	shift 2
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	return 1
}

# wait_for_status ID STATUS [SECONDS]
wait_for_status() {
	local id="$1" want="$2" secs="${3:-10}"
	retry $((secs * 20)) 0.05 _status_is "$id" "$want" ||
		fail "container $id: status $(ctr_status "$id") after ${secs}s, expected $want"
}
_status_is() { [[ "$(ctr_status "$1" 2>/dev/null)" == "$2" ]]; }

# wait_for_file FILE [SECONDS]
wait_for_file() {
	retry $((${2:-10} * 20)) 0.05 test -e "$1" || fail "$1 did not appear within ${2:-10}s"
}

# wait_for_line FILE REGEX [SECONDS]
wait_for_line() {
	retry $((${3:-10} * 20)) 0.05 grep -qE -- "$2" "$1" 2>/dev/null ||
		fail "\"$2\" not found in $1 within ${3:-10}s; it holds: $(cat "$1" 2>/dev/null)"
}

# ---------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# assert_line_in OUTPUT-VAR-CONTENT EXPECTED-LINE: exact line match.
has_line() { grep -qxF -- "$2" <<<"$1"; }

assert_has_line() {
	has_line "$1" "$2" || fail "expected line \"$2\" in:"$'\n'"$1"
}
assert_no_line() {
	! has_line "$1" "$2" || fail "unexpected line \"$2\" in:"$'\n'"$1"
}
assert_eq() {
	[[ "$1" == "$2" ]] || fail "expected \"$2\", got \"$1\"${3:+ ($3)}"
}
assert_contains() {
	[[ "$1" == *"$2"* ]] || fail "expected \"$2\" in:"$'\n'"$1"
}

# The value of key=value line KEY in text.
kv() { sed -n "s/^$2=//p" <<<"$1" | head -1; }

# Cgroup directory of a container process for a v1 controller (or
# "unified"), from /proc/PID/cgroup.
cgroup_dir() {
	local pid="$1" ctrl="$2" rel
	if [[ "$ctrl" == unified ]]; then
		rel="$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")"
	else
		rel="$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")"
	fi
	[[ -n "$rel" ]] || return 1
	echo "/sys/fs/cgroup/$ctrl$rel"
}

# A single-line error on stderr: berth's contract (issue 2, section 6).
# WHAT is the name the message must contain; "a|b" accepts either.
assert_one_line_error() {
	local err="$1" what="${2:-}"
	[[ -n "$err" ]] || fail "stderr is empty"
	local n
	n="$(printf '%s\n' "$err" | wc -l)"
	((n == 1)) || fail "stderr has $n lines, expected one:"$'\n'"$err"
	[[ -n "$what" ]] || return 0
	local alt
	local IFS='|'
	for alt in $what; do
		[[ "$err" == *"$alt"* ]] && return 0
	done
	fail "error does not name \"$what\": $err"
}

# Namespace inode of a process, e.g. ns_of 1234 net -> "net:[4026531840]".
ns_of() { readlink "/proc/$1/ns/$2"; }
