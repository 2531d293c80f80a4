#!/usr/bin/env bats
# Bad input: each case exits non-zero, leaves nothing behind (no state dir,
# no cgroup, no process), and - for berth - prints exactly one error line
# on stderr that names the object at fault. runc's messages are multi-line
# and log-formatted, so for runc only the exit status and cleanup count.

load helpers

# try_runtime ARGS...: runs the runtime with stdio on files (a container
# that starts by mistake cannot hang the test); sets status, output, stderr.
try_runtime() {
	local o="$BATS_TEST_TMPDIR/try.out" e="$BATS_TEST_TMPDIR/try.err"
	status=0
	runtime "$@" </dev/null >"$o" 2>"$e" || status=$?
	output="$(cat "$o")"
	stderr="$(cat "$e")"
}

# assert_failed WHAT [KEEP-ID]: non-zero exit, berth's one-line error naming
# WHAT, and no container left except KEEP-ID.
assert_failed() {
	local what="$1" keep="${2:-}"
	((status != 0)) || fail "expected failure, got status 0 (stderr: $stderr)"
	((status != 124 && status != 137)) || fail "runtime timed out"
	if is_berth; then
		assert_one_line_error "$stderr" "$what"
	fi
	local listed
	listed="$(runtime list -q)"
	assert_eq "$listed" "$keep" "containers left"
	if [[ "$keep" != "$CTR_ID" ]]; then
		[[ ! -e "$ROOT/$CTR_ID" ]] || fail "state dir $ROOT/$CTR_ID left"
		[[ -z "$(find_cgroups "$CTR_ID")" ]] || fail "cgroups left: $(find_cgroups "$CTR_ID")"
	fi
}

create_bad() { try_runtime create --bundle "$BUNDLE" "$CTR_ID"; }

@test "bad input: config.json that is not JSON" {
	echo '{ this is not json' >"$BUNDLE/config.json"
	create_bad
	assert_failed config.json
}

@test "bad input: truncated config.json" {
	local full
	full="$(cat "$BUNDLE/config.json")"
	printf '%s' "${full:0:$((${#full} / 2))}" >"$BUNDLE/config.json"
	create_bad
	assert_failed config.json
}

@test "bad input: empty config.json" {
	: >"$BUNDLE/config.json"
	create_bad
	assert_failed config.json
}

@test "bad input: missing config.json" {
	rm "$BUNDLE/config.json"
	create_bad
	assert_failed config.json
}

@test "bad input: a field of the wrong type (process.args is a string)" {
	update_config '.process.args = "sh"'
	create_bad
	assert_failed args
}

@test "bad input: a field of the wrong type (process.user.uid is a string)" {
	update_config '.process.user.uid = "root"'
	create_bad
	assert_failed uid
}

@test "bad input: a field of the wrong type (mounts is an object)" {
	update_config '.mounts = {"destination": "/x"}'
	create_bad
	assert_failed mounts
}

@test "bad input: empty process.args" {
	update_config '.process.args = []'
	create_bad
	assert_failed args
}

@test "bad input: missing rootfs" {
	update_config '.root.path = "no-such-rootfs"'
	create_bad
	assert_failed no-such-rootfs
}

@test "bad input: rootfs is a file" {
	touch "$BUNDLE/rootfile"
	update_config '.root.path = "rootfile"'
	create_bad
	assert_failed rootfile
}

@test "bad input: unknown namespace type" {
	update_config '.linux.namespaces += [{"type": "bogusns"}]'
	create_bad
	assert_failed bogusns
}

@test "bad input: the same namespace type twice" {
	update_config '.linux.namespaces += [{"type": "pid"}]'
	create_bad
	assert_failed pid
}

@test "bad input: unknown rlimit type" {
	update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	create_bad
	assert_failed RLIMIT_BOGUS
}

@test "bad input: unknown seccomp action" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]}'
	create_bad
	assert_failed SCMP_ACT_BOGUS
}

@test "bad input: invalid device type" {
	update_config '.linux.devices = [{"path": "/dev/e2e", "type": "x", "major": 1, "minor": 3}]'
	create_bad
	assert_failed "/dev/e2e|linux.devices[0]"
}

@test "bad input: a container id with a path separator is refused and creates nothing outside --root" {
	try_runtime create --bundle "$BUNDLE" "../e2e-escape-$$"
	((status != 0)) || fail "accepted an id with ../"
	[[ ! -e "$BATS_TEST_TMPDIR/e2e-escape-$$" ]] || fail "state created outside --root"
	is_berth && assert_one_line_error "$stderr" "e2e-escape-$$"
	assert_eq "$(runtime list -q)" ""
}

@test "bad input: duplicate container id" {
	set_args sleep 1000
	start_ctr
	create_bad
	assert_failed "$CTR_ID" "$CTR_ID"
	# the first container is unharmed
	assert_eq "$(ctr_status)" running
}

@test "bad input: kill of a stopped container" {
	start_ctr
	wait_for_status "$CTR_ID" stopped
	try_runtime kill "$CTR_ID" KILL
	assert_failed "$CTR_ID" "$CTR_ID"
}

@test "bad input: kill with an unknown signal" {
	set_args sleep 1000
	start_ctr
	try_runtime kill "$CTR_ID" SIGBOGUS
	assert_failed SIGBOGUS "$CTR_ID"
	assert_eq "$(ctr_status)" running
}

@test "bad input: delete of a running container without --force" {
	set_args sleep 1000
	start_ctr
	try_runtime delete "$CTR_ID"
	assert_failed "$CTR_ID" "$CTR_ID"
	assert_eq "$(ctr_status)" running
	pid_alive "$(ctr_pid)" || fail "process gone"
}

@test "bad input: start, state, kill, delete, exec of an unknown container" {
	local cmd
	for cmd in start state "kill" delete "exec"; do
		local args=("$cmd" "unknown-$$")
		[[ "$cmd" == exec ]] && args+=(true)
		try_runtime "${args[@]}"
		assert_failed "unknown-$$"
	done
}

@test "bad input: a failing hook" {
	update_config '.hooks.createRuntime = [{"path": "/bin/false", "args": ["false"]}]'
	create_bad
	assert_failed /bin/false
}

@test "bad input: a hook that times out" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]'
	create_bad
	assert_failed /bin/sleep
}

@test "bad input: a mount with a relative source that does not exist" {
	update_config '.mounts += [{"destination": "/mnt/x", "type": "bind", "source": "does-not-exist", "options": ["bind"]}]'
	create_bad
	assert_failed does-not-exist
}

@test "bad input: a capability list of the wrong type" {
	update_config '.process.capabilities.bounding = "CAP_CHOWN"'
	create_bad
	assert_failed capabilities.bounding
}

@test "bad input: an unsupported major ociVersion" {
	berth_only "runc accepts any ociVersion"
	update_config '.ociVersion = "2.0.0"'
	create_bad
	assert_failed 2.0.0
}

@test "bad input: --log-format json gives the error as one JSON line" {
	berth_only "runc logs several lines"
	echo '{ not json' >"$BUNDLE/config.json"
	try_runtime --log-format json create --bundle "$BUNDLE" "$CTR_ID"
	((status != 0)) || fail "succeeded"
	assert_eq "$(printf '%s\n' "$stderr" | wc -l)" 1
	jq -e '.level == "error" and (.msg | contains("config.json"))' <<<"$stderr" >/dev/null || fail "not a JSON error line: $stderr"
}
