#!/usr/bin/env bats
# create / start / state / kill / delete / run, as the runtime spec's
# lifecycle and runc's command line define them.

load helpers

@test "create: state is created, with every field the spec requires" {
	set_args sh -c 'echo started >/tmp/started; exec sleep 100'
	update_config '.annotations = {"org.example.key": "value"}'
	create_ctr
	run -0 ctr_state
	local s="$output"
	[[ "$(jq -r .ociVersion <<<"$s")" =~ ^1\.[0-9]+\.[0-9]+ ]] || fail "ociVersion: $s"
	assert_eq "$(jq -r .id <<<"$s")" "$CTR_ID" "id"
	assert_eq "$(jq -r .status <<<"$s")" "created" "status"
	assert_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" "bundle (absolute path)"
	assert_eq "$(jq -r '.annotations["org.example.key"]' <<<"$s")" "value" "annotations"
	local pid
	pid="$(jq -r .pid <<<"$s")"
	[[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) || fail "pid $pid"
	pid_alive "$pid" || fail "pid $pid is not a live process"
	# The user program must not run before start.
	sleep 0.2
	[[ ! -e "$BUNDLE/rootfs/tmp/started" ]] || fail "process ran before start"
}

@test "start: runs the process; status running with the same pid, then stopped" {
	set_args sh -c 'echo started >/tmp/started; read line </tmp/fifo; echo done'
	mkfifo "$BUNDLE/rootfs/tmp/fifo"
	create_ctr
	local pid
	pid="$(ctr_pid)"
	run -0 runtime start "$CTR_ID"
	wait_for_file "$BUNDLE/rootfs/tmp/started"
	assert_eq "$(ctr_status)" running
	assert_eq "$(ctr_pid)" "$pid" "pid unchanged by start"
	echo go >"$BUNDLE/rootfs/tmp/fifo"
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(ctr_out)" "done"
	# state of a stopped container still answers, pid no longer running
	run -0 ctr_state
	assert_eq "$(jq -r .id <<<"$output")" "$CTR_ID"
}

@test "start: a second start of a started container fails" {
	set_args sleep 100
	start_ctr
	run ! runtime start "$CTR_ID"
	assert_eq "$(ctr_status)" running
}

@test "create --pid-file writes the container pid" {
	set_args sleep 100
	create_ctr "" --pid-file "$BATS_TEST_TMPDIR/pidfile"
	[[ -s "$BATS_TEST_TMPDIR/pidfile" ]] || fail "pid file empty"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/pidfile")" "$(ctr_pid)"
}

@test "state of an unknown container fails" {
	run ! runtime state "does-not-exist-$$"
	[[ -n "$output" ]] || fail "no error message"
}

@test "kill: signals by name, SIG-prefixed name and number reach the process" {
	set_args helper pause 3
	start_ctr
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	runtime kill "$CTR_ID" USR1
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^SIGUSR1$'
	runtime kill "$CTR_ID" SIGHUP
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^SIGHUP$'
	runtime kill "$CTR_ID" 12
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(ctr_out)" $'ready\nSIGUSR1\nSIGHUP\nSIGUSR2'
}

@test "kill: the default signal is SIGTERM" {
	set_args helper pause 1
	start_ctr
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	runtime kill "$CTR_ID"
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(ctr_out)" $'ready\nSIGTERM'
}

@test "kill: KILL stops a process that ignores TERM" {
	set_args sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done'
	start_ctr
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	runtime kill "$CTR_ID" TERM
	sleep 0.3
	assert_eq "$(ctr_status)" running
	runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
}

@test "kill --all: signals every process of the container" {
	set_args sleep 1000
	start_ctr
	runtime exec --detach --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$CTR_ID" sleep 1000 </dev/null >/dev/null 2>&1
	wait_for_file "$BATS_TEST_TMPDIR/exec.pid"
	local init exec_pid
	init="$(ctr_pid)"
	exec_pid="$(cat "$BATS_TEST_TMPDIR/exec.pid")"
	CTR_PIDS+=("$exec_pid")
	pid_alive "$exec_pid" || fail "exec process not running"
	run -0 runtime kill --all "$CTR_ID" KILL
	retry 100 0.05 eval '! pid_alive '"$exec_pid"' && ! pid_alive '"$init" ||
		fail "processes survive kill --all"
	wait_for_status "$CTR_ID" stopped
}

@test "kill of an unknown container fails" {
	run ! runtime kill "nope-$$" KILL
}

@test "delete: removes a stopped container and its state" {
	start_ctr
	wait_for_status "$CTR_ID" stopped
	run -0 runtime delete "$CTR_ID"
	run ! runtime state "$CTR_ID"
	run -0 runtime list -q
	assert_eq "$output" ""
	[[ ! -e "$ROOT/$CTR_ID" ]] || fail "state dir remains"
}

@test "delete --force: kills and removes a running container" {
	set_args sleep 1000
	start_ctr
	local pid cg
	pid="$(ctr_pid)"
	cg="$(cgroup_dir "$pid" pids)"
	[[ -d "$cg" ]] || fail "no pids cgroup $cg"
	run -0 runtime delete --force "$CTR_ID"
	retry 100 0.05 eval "! pid_alive $pid" || fail "process $pid survived delete --force"
	run ! runtime state "$CTR_ID"
	[[ ! -d "$cg" ]] || fail "cgroup $cg remains"
}

@test "delete --force: removes a created (never started) container" {
	set_args sleep 1000
	create_ctr
	local pid
	pid="$(ctr_pid)"
	run -0 runtime delete --force "$CTR_ID"
	retry 100 0.05 eval "! pid_alive $pid" || fail "init $pid survived"
	run ! runtime state "$CTR_ID"
}

@test "delete: a created container can be deleted without --force" {
	set_args sleep 1000
	create_ctr
	local pid
	pid="$(ctr_pid)"
	run -0 runtime delete "$CTR_ID"
	retry 100 0.05 eval "! pid_alive $pid" || fail "init $pid survived"
	run ! runtime state "$CTR_ID"
}

@test "run: output passes through and the container is removed" {
	set_args sh -c 'echo hello from $(hostname)'
	run -0 run_ctr
	assert_eq "$output" "hello from berth-e2e"
	run ! runtime state "$CTR_ID"
}

@test "run: exit codes propagate" {
	set_args sh -c 'exit 3'
	run -3 run_ctr
	set_args false
	run -1 run_ctr
	set_args sh -c 'exit 255'
	run -255 run_ctr
}

@test "run: a container killed by a signal exits 128+signal" {
	set_args helper pause
	run_ctr >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local bg=$! rc=0
	wait_for_line "$BATS_TEST_TMPDIR/out" '^ready$'
	runtime kill "$CTR_ID" KILL
	wait "$bg" || rc=$?
	assert_eq "$rc" 137 "exit status of run"
}

@test "run: a missing executable fails run" {
	set_args /bin/does-not-exist
	run ! run_ctr
	run ! runtime state "$CTR_ID"
}

@test "run --detach: returns while the container runs" {
	set_args sleep 1000
	local t0=$SECONDS
	runtime run --detach --bundle "$BUNDLE" "$CTR_ID" </dev/null >/dev/null 2>&1
	((SECONDS - t0 < 10)) || fail "run --detach did not return"
	assert_eq "$(ctr_status)" running
	CTR_PIDS+=("$(ctr_pid)")
	run -0 runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
	run -0 runtime delete "$CTR_ID"
}

@test "run --keep: the stopped container stays until deleted" {
	set_args sh -c 'exit 7'
	run -7 run_ctr --keep
	assert_eq "$(ctr_status)" stopped
	run -0 runtime delete "$CTR_ID"
	run ! runtime state "$CTR_ID"
}

@test "create: the same bundle can serve two containers with different ids" {
	set_args sleep 1000
	local id2
	id2="$(new_id second)"
	create_ctr
	create_ctr "$id2"
	assert_eq "$(ctr_status "$id2")" created
	[[ "$(ctr_pid)" != "$(ctr_pid "$id2")" ]] || fail "same pid"
}
