#!/usr/bin/env bats
# linux.resources and cgroupsPath: limits read back from the kernel files
# of the container's cgroup, and enforced (OOM kill, pids.max); freezer;
# update; delete removes the cgroups.

load helpers

# cg CONTROLLER: the container's cgroup dir for that controller
cg() { cgroup_dir "$(ctr_pid)" "$1"; }

# Every v1 hierarchy the container is in (dirs), from /proc/PID/cgroup.
all_cgroup_dirs() {
	local pid="$1" line ctrls rel c
	while IFS=: read -r _ ctrls rel; do
		[[ -n "$ctrls" ]] || continue # the v2 line
		c="${ctrls%%,*}"
		c="${c#name=}"
		[[ -d "/sys/fs/cgroup/$c$rel" ]] && echo "/sys/fs/cgroup/$c$rel"
	done <"/proc/$pid/cgroup"
}

@test "cgroups: memory limit, reservation and swap are written to the kernel files" {
	update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 100663296}'
	set_args sleep 1000
	start_ctr
	local d
	d="$(cg memory)"
	[[ "$d" == */"$CTR_ID" ]] || fail "memory cgroup $d not named after the container"
	assert_eq "$(cat "$d/memory.limit_in_bytes")" 67108864
	assert_eq "$(cat "$d/memory.soft_limit_in_bytes")" 33554432
	[[ ! -e "$d/memory.memsw.limit_in_bytes" ]] || assert_eq "$(cat "$d/memory.memsw.limit_in_bytes")" 100663296
}

@test "cgroups: the container sees its own memory limit under /sys/fs/cgroup" {
	update_config '.linux.resources.memory = {"limit": 67108864}'
	set_args cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	run -0 run_ctr
	assert_eq "$output" 67108864
}

@test "cgroups: the memory cgroup is below the caller's own memory cgroup (relative path)" {
	set_args sleep 1000
	start_ctr
	local mine theirs
	mine="$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)"
	theirs="$(awk -F: '$2 == "memory" { print $3 }' "/proc/$(ctr_pid)/cgroup")"
	assert_eq "$theirs" "${mine%/}/$CTR_ID"
}

@test "cgroups: allocating past the memory limit is OOM-killed (exit 137)" {
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	set_args helper alloc 256
	run -137 run_ctr
	assert_contains "$output" "progress 16"
	[[ "$output" != *"allocated 256"* ]] || fail "allocation succeeded past the limit"
}

@test "cgroups: the OOM kill is recorded in the container's memory cgroup" {
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	set_args helper alloc 256
	create_ctr
	local d
	# read while the process exists: it dies within milliseconds of start
	d="$(cg memory)"
	[[ "$d" == */"$CTR_ID" ]] || fail "memory cgroup of the container: \"$d\""
	runtime start "$CTR_ID"
	wait_for_status "$CTR_ID" stopped
	# the kernel counts the kill just after sending SIGKILL: allow it a moment
	retry 40 0.05 grep -qx "oom_kill [1-9][0-9]*" "$d/memory.oom_control" || fail "no OOM kill recorded: $(cat "$d/memory.oom_control")"
	assert_eq "$(ctr_out | tail -1 | cut -d' ' -f1)" progress
}

@test "cgroups: a memory limit that is enough lets the allocation finish" {
	update_config '.linux.resources.memory = {"limit": 134217728}'
	set_args helper alloc 32
	run -0 run_ctr
	assert_has_line "$output" "allocated 32"
}

@test "cgroups: pids.max stops a fork bomb" {
	update_config '.linux.resources.pids = {"limit": 10}'
	set_args helper forkbomb 100
	run -0 run_ctr
	local forked
	forked="$(kv "$output" forked)"
	((forked >= 1 && forked < 10)) || fail "forked $forked processes with pids.max 10"
	assert_has_line "$output" "error=EAGAIN"
}

@test "cgroups: pids.max is written to the kernel file" {
	update_config '.linux.resources.pids = {"limit": 42}'
	set_args sleep 1000
	start_ctr
	assert_eq "$(cat "$(cg pids)/pids.max")" 42
}

@test "cgroups: without a pids limit the fork bomb runs to its end" {
	set_args helper forkbomb 50
	run -0 run_ctr
	assert_has_line "$output" "forked=50"
}

@test "cgroups: cpu shares, quota and period" {
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
	set_args sleep 1000
	start_ctr
	local d
	d="$(cg cpu)"
	assert_eq "$(cat "$d/cpu.shares")" 512
	assert_eq "$(cat "$d/cpu.cfs_quota_us")" 50000
	assert_eq "$(cat "$d/cpu.cfs_period_us")" 100000
}

@test "cgroups: cpuset cpus and mems" {
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status; sleep 1000'
	start_ctr
	local d
	d="$(cg cpuset)"
	assert_eq "$(cat "$d/cpuset.cpus")" 0
	assert_eq "$(cat "$d/cpuset.mems")" 0
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" 'Cpus_allowed_list'
	assert_eq "$(ctr_out | awk '{ print $2 }')" 0
}

@test "cgroups: blockIO throttling of a device" {
	local dev
	dev="$(stat -c '%Hd:%Ld' /)"
	[[ -e /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ]] || skip "no blkio throttling"
	update_config '.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}]}' \
		--argjson ma "${dev%%:*}" --argjson mi "${dev##*:}"
	set_args sleep 1000
	start_ctr
	assert_eq "$(cat "$(cg blkio)/blkio.throttle.read_bps_device")" "$dev 1048576"
}

@test "cgroups: pause freezes every process, resume thaws them" {
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/counter; sleep 0.05; done'
	start_ctr
	wait_for_file "$BUNDLE/rootfs/tmp/counter"
	run -0 runtime pause "$CTR_ID"
	assert_eq "$(ctr_status)" paused
	local d
	d="$(cg freezer)"
	assert_eq "$(cat "$d/freezer.state")" FROZEN
	local a b
	a="$(cat "$BUNDLE/rootfs/tmp/counter")"
	sleep 0.5
	b="$(cat "$BUNDLE/rootfs/tmp/counter")"
	assert_eq "$b" "$a" "counter moved while paused"
	run -0 runtime resume "$CTR_ID"
	assert_eq "$(ctr_status)" running
	assert_eq "$(cat "$d/freezer.state")" THAWED
	retry 40 0.05 eval '[[ "$(cat "$BUNDLE/rootfs/tmp/counter")" != "$a" ]]' || fail "counter still after resume"
}

@test "cgroups: a paused container can be deleted with --force" {
	set_args sleep 1000
	start_ctr
	runtime pause "$CTR_ID"
	local pid
	pid="$(ctr_pid)"
	run -0 runtime delete --force "$CTR_ID"
	retry 100 0.05 eval "! pid_alive $pid" || fail "frozen process $pid survived"
}

@test "cgroups: pause of a stopped container fails, resume of a running one fails" {
	set_args sleep 1000
	start_ctr
	run ! runtime resume "$CTR_ID"
	assert_eq "$(ctr_status)" running
	runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
	run ! runtime pause "$CTR_ID"
}

@test "cgroups: update changes memory and pids limits in the kernel files" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	set_args sleep 1000
	start_ctr
	run -0 runtime update --memory 134217728 --pids-limit 77 "$CTR_ID"
	assert_eq "$(cat "$(cg memory)/memory.limit_in_bytes")" 134217728
	assert_eq "$(cat "$(cg pids)/pids.max")" 77
}

@test "cgroups: delete removes every cgroup directory of the container" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	set_args sleep 1000
	start_ctr
	local dirs d
	mapfile -t dirs < <(all_cgroup_dirs "$(ctr_pid)")
	((${#dirs[@]} >= 5)) || fail "only ${#dirs[@]} cgroup dirs: ${dirs[*]}"
	for d in "${dirs[@]}"; do [[ -d "$d" ]] || fail "$d missing"; done
	runtime kill "$CTR_ID" KILL
	wait_for_status "$CTR_ID" stopped
	run -0 runtime delete "$CTR_ID"
	for d in "${dirs[@]}"; do [[ ! -d "$d" ]] || fail "$d left after delete"; done
}

@test "cgroups: a relative cgroupsPath is created under the caller's cgroup" {
	local name="e2e$$-custom-$BATS_TEST_NUMBER"
	EXTRA_CGROUPS+=("$name")
	update_config '.linux.cgroupsPath = $p' --arg p "e2e-parent$$/$name"
	EXTRA_CGROUPS+=("e2e-parent$$")
	set_args sleep 1000
	start_ctr
	local mine
	mine="$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)"
	assert_eq "$(awk -F: '$2 == "memory" { print $3 }' "/proc/$(ctr_pid)/cgroup")" "${mine%/}/e2e-parent$$/$name"
	assert_eq "$(awk -F: '$2 == "pids" { print $3 }' "/proc/$(ctr_pid)/cgroup")" "$(awk -F: '$2 == "pids" { print $3 }' /proc/self/cgroup | sed 's|/$||')/e2e-parent$$/$name"
	run -0 runtime delete --force "$CTR_ID"
	[[ -z "$(find_cgroups "$name")" ]] || fail "cgroup $name left: $(find_cgroups "$name")"
	# the intermediate parent the runtime created is not the container's: leave it to the test
	remove_cgroups $(find_cgroups "e2e-parent$$")
}

@test "cgroups: an absolute cgroupsPath is used as is" {
	local name="e2e$$-abs-$BATS_TEST_NUMBER"
	EXTRA_CGROUPS+=("$name")
	update_config '.linux.cgroupsPath = $p' --arg p "/$name"
	set_args sleep 1000
	start_ctr
	assert_eq "$(awk -F: '$2 == "pids" { print $3 }' "/proc/$(ctr_pid)/cgroup")" "/$name"
	[[ -d "/sys/fs/cgroup/pids/$name" ]] || fail "no /sys/fs/cgroup/pids/$name"
	run -0 runtime delete --force "$CTR_ID"
	[[ ! -d "/sys/fs/cgroup/pids/$name" ]] || fail "cgroup left"
}
