#!/usr/bin/env bats
# hooks: every kind runs, in order, with the state on stdin; env, args,
# namespaces; failures and timeouts fail the operation and leave nothing.

load helpers

setup() {
	e2e_setup
	# One log for all hooks: host hooks write it by its host path, the
	# startContainer hook (run inside the container) by /tmp/hooks.log.
	LOG="$BUNDLE/rootfs/tmp/hooks.log"
	HOST_HELPER="$BATS_TEST_TMPDIR/hook-helper"
	cp "$HELPER" "$HOST_HELPER"
}

# hook_json NAME [EXTRA-HELPER-ARGS...] -> a hook object for a host hook
hook_json() {
	local name="$1"
	shift
	jq -nc '{path: $p, args: (["helper", "hook", $n, $log] + $extra)}' \
		--arg p "$HOST_HELPER" --arg n "$name" --arg log "$LOG" --argjson extra "$(json_array "$@")"
}

# The startContainer hook runs in the container: container paths.
start_hook_json() {
	jq -nc '{path: "/bin/helper", args: (["helper", "hook", "startContainer", "/tmp/hooks.log"] + $extra)}' \
		--argjson extra "$(json_array "$@")"
}

set_hooks() { update_config ".hooks = $1"; }

all_hooks() {
	set_hooks "{
		\"prestart\": [$(hook_json prestart --ns mnt)],
		\"createRuntime\": [$(hook_json createRuntime --ns mnt)],
		\"createContainer\": [$(hook_json createContainer --ns mnt)],
		\"startContainer\": [$(start_hook_json --ns mnt)],
		\"poststart\": [$(hook_json poststart --ns mnt)],
		\"poststop\": [$(hook_json poststop --ns mnt)]}"
}

# field NAME KEY: jq .KEY of the state logged by hook NAME
hook_state() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$LOG" | head -1; }
hook_extra() { awk -F'\t' -v n="$1" -v k="$2" '$1 == n { for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$LOG" | head -1; }

@test "hooks: every kind runs once, in lifecycle order" {
	all_hooks
	# poststart also records what the container's process runs at that
	# moment: the spec says it runs after the user process was executed.
	update_config '.hooks.poststart = [$p]' --argjson p "$(hook_json poststart --ns mnt --comm)"
	set_args sleep 1000
	create_ctr
	runtime start "$CTR_ID"
	wait_for_line "$LOG" '^poststart'
	runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
	runtime delete "$CTR_ID"
	run -0 cut -f1 "$LOG"
	local order="$output"
	if is_runc; then
		# runc 1.1 runs poststart concurrently with startContainer and the
		# process start: check the order it does guarantee.
		assert_eq "$(grep -v poststart <<<"$order")" $'prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststop'
		assert_eq "$(grep -c poststart <<<"$order")" 1
		assert_eq "$(sed -n 4p <<<"$order" | grep -c -e poststart -e startContainer)" 1
	else
		assert_eq "$order" $'prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop'
		# a shell marker line would race with poststart: the spec orders
		# poststart after the execve, not after the process's first write.
		assert_eq "$(hook_extra poststart comm)" sleep
	fi
}

@test "hooks: the state on stdin has the right status, id, bundle and pid" {
	all_hooks
	set_args sleep 1000
	create_ctr
	local pid
	pid="$(ctr_pid)"
	runtime start "$CTR_ID"
	wait_for_line "$LOG" '^poststart'
	runtime delete --force "$CTR_ID"
	local h s
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		s="$(hook_state "$h")"
		[[ -n "$s" ]] || fail "$h: no state logged"
		jq -e . >/dev/null <<<"$s" || fail "$h: stdin is not JSON: $s"
		assert_eq "$(jq -r .id <<<"$s")" "$CTR_ID" "$h id"
		assert_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" "$h bundle"
		[[ "$(jq -r .ociVersion <<<"$s")" == 1.* ]] || fail "$h ociVersion: $s"
	done
	for h in prestart createRuntime createContainer; do
		assert_eq "$(jq -r .status <<<"$(hook_state "$h")")" creating "$h status"
	done
	assert_eq "$(jq -r .status <<<"$(hook_state startContainer)")" created "startContainer status"
	if is_runc; then
		# runc 1.1 may run poststart before the status changes (see above)
		[[ "$(jq -r .status <<<"$(hook_state poststart)")" =~ ^(created|running)$ ]] || fail "poststart status"
	else
		assert_eq "$(jq -r .status <<<"$(hook_state poststart)")" running "poststart status"
	fi
	assert_eq "$(jq -r .status <<<"$(hook_state poststop)")" stopped "poststop status"
	for h in prestart createRuntime poststart; do
		assert_eq "$(jq -r .pid <<<"$(hook_state "$h")")" "$pid" "$h pid"
	done
	# The spec's pid is the one the host sees; runc 1.1 gives hooks run
	# inside the container their pid-namespace pid (1).
	for h in createContainer startContainer; do
		if is_runc && [[ "$(jq -r .pid <<<"$(hook_state "$h")")" == 1 ]]; then continue; fi
		assert_eq "$(jq -r .pid <<<"$(hook_state "$h")")" "$pid" "$h pid"
	done
}

@test "hooks: createRuntime runs in the runtime's mount namespace, createContainer and startContainer in the container's" {
	all_hooks
	set_args sleep 1000
	start_ctr
	wait_for_line "$LOG" '^poststart'
	local host ctr
	host="$(readlink /proc/self/ns/mnt)"
	ctr="$(readlink "/proc/$(ctr_pid)/ns/mnt")"
	assert_eq "$(hook_extra prestart mnt)" "$host" "prestart mnt ns"
	assert_eq "$(hook_extra createRuntime mnt)" "$host" "createRuntime mnt ns"
	assert_eq "$(hook_extra createContainer mnt)" "$ctr" "createContainer mnt ns"
	assert_eq "$(hook_extra startContainer mnt)" "$ctr" "startContainer mnt ns"
	assert_eq "$(hook_extra poststart mnt)" "$host" "poststart mnt ns"
}

@test "hooks: env and args are exactly the configured ones" {
	set_hooks "{\"createRuntime\": [$(hook_json createRuntime --env E2E_HOOK_VAR --env BATS_TEST_NUMBER --env PATH |
		jq -c '.env = ["E2E_HOOK_VAR=hello world", "PATH=/hook/path"]')]}"
	create_ctr
	assert_eq "$(hook_extra createRuntime E2E_HOOK_VAR)" "hello world"
	assert_eq "$(hook_extra createRuntime PATH)" "/hook/path"
	assert_eq "$(hook_extra createRuntime BATS_TEST_NUMBER)" "(unset)" "runtime env leaked into hook"
}

@test "hooks: several hooks of one kind run in the order given" {
	set_hooks "{\"createRuntime\": [$(hook_json first), $(hook_json second), $(hook_json third)]}"
	create_ctr
	run -0 cut -f1 "$LOG"
	assert_eq "$output" $'first\nsecond\nthird'
}

@test "hooks: a hook that does not read stdin is fine" {
	set_hooks "{\"createRuntime\": [$(hook_json quick --no-stdin), $(hook_json slow --no-stdin --sleep 0.3)],
		\"poststart\": [$(hook_json after)]}"
	set_args sleep 1000
	start_ctr
	wait_for_line "$LOG" '^after'
	run -0 cut -f1,2 "$LOG"
	assert_eq "$output" $'quick\t-\nslow\t-\nafter\t'"$(hook_state after)"
	assert_eq "$(ctr_status)" running
}

# The failure contract: non-zero exit, nothing left (teardown checks state,
# cgroups and processes), the user process never ran.
assert_create_failed_clean() {
	[[ ! -e "$BUNDLE/rootfs/tmp/ran" ]] || fail "the container process ran"
	run -0 runtime list -q
	assert_eq "$output" ""
	run ! runtime state "$CTR_ID"
}

@test "hooks: a failing prestart hook fails create and leaves nothing" {
	set_hooks "{\"prestart\": [$(hook_json failing --exit 3)]}"
	set_args sh -c 'touch /tmp/ran'
	run ! runtime run --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_has_line "$(cut -f1 "$LOG")" failing
	assert_create_failed_clean
}

@test "hooks: a failing createRuntime hook fails create and leaves nothing" {
	set_hooks "{\"createRuntime\": [$(hook_json failing --exit 1)], \"createContainer\": [$(hook_json never)]}"
	set_args sh -c 'touch /tmp/ran'
	run ! runtime create --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_eq "$(cut -f1 "$LOG")" failing "later hooks must not run"
	assert_create_failed_clean
}

@test "hooks: a failing createContainer hook fails create and leaves nothing" {
	set_hooks "{\"createContainer\": [$(hook_json failing --exit 1)]}"
	set_args sh -c 'touch /tmp/ran'
	run ! runtime create --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_create_failed_clean
}

@test "hooks: a failing startContainer hook fails start; the process never runs" {
	set_hooks "{\"startContainer\": [$(start_hook_json --exit 1)]}"
	set_args sh -c 'touch /tmp/ran'
	create_ctr
	run runtime start "$CTR_ID"
	# runc 1.1 does not wait for the hook: its start returns 0
	is_runc || ((status != 0)) || fail "start succeeded although startContainer failed"
	wait_for_line "$LOG" '^startContainer'
	wait_for_status "$CTR_ID" stopped
	[[ ! -e "$BUNDLE/rootfs/tmp/ran" ]] || fail "process ran after its startContainer hook failed"
}

@test "hooks: a hook that exceeds its timeout fails create and leaves nothing" {
	set_hooks "{\"createRuntime\": [$(hook_json sleepy --sleep 30 | jq -c '.timeout = 1')]}"
	set_args sh -c 'touch /tmp/ran'
	local t0=$SECONDS
	run ! runtime create --bundle "$BUNDLE" "$CTR_ID" </dev/null
	((SECONDS - t0 < 15)) || fail "create took $((SECONDS - t0))s with a 1s hook timeout"
	assert_create_failed_clean
	# the timed-out hook was killed
	run pgrep -f "hook sleepy $LOG"
	assert_eq "$output" ""
}

@test "hooks: a hook that does not exist fails create" {
	set_hooks '{"createRuntime": [{"path": "/nonexistent/hook"}]}'
	set_args sh -c 'touch /tmp/ran'
	run ! runtime create --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_create_failed_clean
}

@test "hooks: poststop runs at delete, also for a container that was never started" {
	set_hooks "{\"poststop\": [$(hook_json poststop)]}"
	set_args sleep 1000
	create_ctr
	[[ ! -e "$LOG" ]] || fail "poststop ran before delete"
	runtime delete --force "$CTR_ID"
	assert_eq "$(cut -f1 "$LOG")" poststop
}
