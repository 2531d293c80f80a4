#!/usr/bin/env bats
# exec: args, --env, --cwd, --user, --cap, --tty, --process, --detach,
# --pid-file, --preserve-fds; exit codes; same namespaces and cgroups.

load helpers

setup() {
	e2e_setup
	set_args sleep 1000
	start_ctr
	INIT_PID="$(ctr_pid)"
}

@test "exec: runs a command in the container and passes its output" {
	run -0 runtime exec "$CTR_ID" sh -c 'echo "in $(hostname)"; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$output" "in berth-e2e"$'\n'"sleep 1000 "
}

@test "exec: exit codes propagate, including death by signal" {
	run -4 runtime exec "$CTR_ID" sh -c 'exit 4'
	run -0 runtime exec "$CTR_ID" true
	run -137 runtime exec "$CTR_ID" sh -c 'kill -KILL $$'
	assert_eq "$(ctr_status)" running
}

@test "exec: a missing executable fails" {
	run ! runtime exec "$CTR_ID" /bin/does-not-exist
	assert_eq "$(ctr_status)" running
}

@test "exec: the process joins every namespace of the container" {
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	runtime delete --force "$CTR_ID"
	start_ctr
	INIT_PID="$(ctr_pid)"
	run -0 runtime exec "$CTR_ID" sh -c 'for n in pid net ipc uts mnt cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done'
	local n
	for n in pid net ipc uts mnt cgroup user; do
		assert_has_line "$output" "$n $(readlink "/proc/$INIT_PID/ns/$n")"
	done
}

@test "exec: the process is in the container's cgroups" {
	run -0 runtime exec "$CTR_ID" cat /proc/self/cgroup
	assert_eq "$output" "$(cat "/proc/$INIT_PID/cgroup")"
}

@test "exec: environment from the config, --env adds and overrides" {
	update_config '.process.env = ["PATH=/bin:/sbin", "KEEP=config", "OVERRIDE=config"]'
	runtime delete --force "$CTR_ID"
	start_ctr
	run -0 runtime exec --env OVERRIDE=cli --env NEW=value "$CTR_ID" env
	assert_has_line "$output" "KEEP=config"
	assert_has_line "$output" "OVERRIDE=cli"
	assert_has_line "$output" "NEW=value"
	assert_has_line "$output" "PATH=/bin:/sbin"
	assert_no_line "$output" "OVERRIDE=config"
}

@test "exec --cwd" {
	run -0 runtime exec --cwd /tmp "$CTR_ID" helper cwd
	assert_has_line "$output" "cwd=/tmp"
	assert_has_line "$output" "inside=yes"
}

@test "exec --user uid:gid" {
	run -0 runtime exec --user 1000:1000 "$CTR_ID" helper ids
	assert_has_line "$output" "uid=1000"
	assert_has_line "$output" "gid=1000"
	assert_has_line "$output" "euid=1000"
}

@test "exec --user uid only uses gid 0" {
	run -0 runtime exec --user 1000 "$CTR_ID" helper ids
	assert_has_line "$output" "uid=1000"
	assert_has_line "$output" "gid=0"
}

@test "exec: default capabilities are the container's; --cap adds one" {
	run -0 runtime exec "$CTR_ID" helper caps
	assert_has_line "$output" "CapEff=0000000020000420"
	run -0 runtime exec --cap CAP_CHOWN "$CTR_ID" helper caps
	assert_has_line "$output" "CapEff=0000000020000421"
	assert_has_line "$output" "CapPrm=0000000020000421"
	assert_has_line "$output" "CapBnd=0000000020000421"
	touch "$BUNDLE/rootfs/tmp/f"
	run -0 runtime exec --cap CAP_CHOWN "$CTR_ID" helper syscall chown /tmp/f 1000 1000
	assert_eq "$output" "ok"
	assert_eq "$(stat -c %u "$BUNDLE/rootfs/tmp/f")" 1000
}

@test "exec: no_new_privs and rlimits of the config apply" {
	update_config '.process.noNewPrivileges = true | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 777}]'
	runtime delete --force "$CTR_ID"
	start_ctr
	run -0 runtime exec "$CTR_ID" sh -c 'helper caps; helper rlimits'
	assert_has_line "$output" "NoNewPrivs=1"
	assert_has_line "$output" "RLIMIT_NOFILE=777:777"
}

@test "exec --process: a process.json file" {
	jq -n '{terminal: false, args: ["sh", "-c", "echo $A; pwd; id -u"], env: ["PATH=/bin", "A=from-process-json"],
		cwd: "/tmp", user: {uid: 1000, gid: 1000}}' >"$BATS_TEST_TMPDIR/process.json"
	run -0 runtime exec --process "$BATS_TEST_TMPDIR/process.json" "$CTR_ID"
	assert_eq "$output" $'from-process-json\n/tmp\n1000'
}

@test "exec --process: an invalid process.json fails" {
	echo '{"args": ' >"$BATS_TEST_TMPDIR/process.json"
	run ! runtime exec --process "$BATS_TEST_TMPDIR/process.json" "$CTR_ID"
	assert_eq "$(ctr_status)" running
}

@test "exec --detach --pid-file: returns at once; the pid is the exec'd process" {
	# a detached process keeps the stdio it is given: never bats' `run` pipes
	local t0=$SECONDS
	runtime exec --detach --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$CTR_ID" sh -c 'echo $$ >/tmp/inner-pid; exec sleep 1000' \
		</dev/null >/dev/null 2>&1
	((SECONDS - t0 < 10)) || fail "exec --detach did not return"
	local pid
	pid="$(cat "$BATS_TEST_TMPDIR/exec.pid")"
	CTR_PIDS+=("$pid")
	pid_alive "$pid" || fail "exec process $pid is not running"
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "
	assert_eq "$(readlink "/proc/$pid/ns/pid")" "$(readlink "/proc/$INIT_PID/ns/pid")"
	wait_for_file "$BUNDLE/rootfs/tmp/inner-pid"
	# as seen from inside: not pid 1, but a small pid of the container
	local inner
	inner="$(cat "$BUNDLE/rootfs/tmp/inner-pid")"
	((inner > 1 && inner < 100)) || fail "inner pid $inner"
}

@test "exec --tty with --console-socket" {
	local sock="$BATS_TEST_TMPDIR/console.sock"
	"$HELPER" recvtty "$sock" --timeout 30 >"$BATS_TEST_TMPDIR/tty.out" 2>/dev/null &
	local rt=$!
	on_teardown kill "$rt"
	wait_for_file "$sock"
	runtime exec --tty --detach --console-socket "$sock" "$CTR_ID" helper tty </dev/null >/dev/null 2>&1
	wait "$rt"
	local out
	out="$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")"
	assert_contains "$out" "stdin=/dev/pts/"
	assert_has_line "$out" "ctty=yes"
}

@test "exec: stdin reaches the exec'd process" {
	run -0 bash -c 'echo piped | "$0" --root "$1" exec "$2" sh -c "read l; echo got:\$l"' "$RUNTIME" "$ROOT" "$CTR_ID"
	assert_eq "$output" "got:piped"
}

@test "exec --preserve-fds passes extra fds" {
	run -0 bash -c 'exec 3<"$3"; exec 4>/dev/null; "$0" --root "$1" exec --preserve-fds 2 "$2" helper fds' \
		"$RUNTIME" "$ROOT" "$CTR_ID" "$BUNDLE/config.json"
	assert_has_line "$output" "total 2"
	grep -q "^3 .*config.json$" <<<"$output" || fail "fd 3 missing: $output"
	grep -q "^4 /dev/null$" <<<"$output" || fail "fd 4 missing: $output"
}

@test "exec: without --preserve-fds no extra fd leaks in" {
	run -0 bash -c 'exec 3<"$3"; exec 7>/dev/null; "$0" --root "$1" exec "$2" helper fds' "$RUNTIME" "$ROOT" "$CTR_ID" "$BUNDLE/config.json"
	assert_eq "$output" "total 0"
}

@test "exec into a stopped container fails" {
	runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
	run ! runtime exec "$CTR_ID" true
}

@test "exec into a paused container fails" {
	runtime pause "$CTR_ID"
	run ! runtime exec "$CTR_ID" true
	runtime resume "$CTR_ID"
}
