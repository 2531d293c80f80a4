#!/usr/bin/env bats
# update: -r resources JSON (file or stdin) and the common flags change the
# kernel's cgroup files, and the new limits are enforced.

load helpers

setup() {
	e2e_setup
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100} |
		.linux.resources.cpu = {"shares": 1024}'
	set_args sleep 1000
	start_ctr
	PID="$(ctr_pid)"
}

cgfile() { cat "$(cgroup_dir "$PID" "$1")/$2"; }

@test "update -r FILE: memory, pids and cpu from a resources JSON" {
	cat >"$BATS_TEST_TMPDIR/r.json" <<-'EOF'
		{"memory": {"limit": 100663296, "reservation": 50331648},
		 "pids": {"limit": 33},
		 "cpu": {"shares": 256, "quota": 20000, "period": 100000}}
	EOF
	run -0 runtime update -r "$BATS_TEST_TMPDIR/r.json" "$CTR_ID"
	assert_eq "$(cgfile memory memory.limit_in_bytes)" 100663296
	assert_eq "$(cgfile memory memory.soft_limit_in_bytes)" 50331648
	assert_eq "$(cgfile pids pids.max)" 33
	assert_eq "$(cgfile cpu cpu.shares)" 256
	assert_eq "$(cgfile cpu cpu.cfs_quota_us)" 20000
	assert_eq "$(cgfile cpu cpu.cfs_period_us)" 100000
}

@test "update -r -: resources JSON on stdin" {
	run -0 bash -c 'echo "{\"pids\": {\"limit\": 44}}" | "$0" --root "$1" update -r - "$2"' "$RUNTIME" "$ROOT" "$CTR_ID"
	assert_eq "$(cgfile pids pids.max)" 44
	# what was not mentioned is unchanged
	assert_eq "$(cgfile memory memory.limit_in_bytes)" 67108864
}

@test "update: --memory, --memory-reservation, --memory-swap" {
	run -0 runtime update --memory 134217728 --memory-reservation 67108864 --memory-swap 268435456 "$CTR_ID"
	assert_eq "$(cgfile memory memory.limit_in_bytes)" 134217728
	assert_eq "$(cgfile memory memory.soft_limit_in_bytes)" 67108864
	assert_eq "$(cgfile memory memory.memsw.limit_in_bytes)" 268435456
}

@test "update: --cpu-share, --cpu-quota, --cpu-period" {
	run -0 runtime update --cpu-share 300 --cpu-quota 30000 --cpu-period 60000 "$CTR_ID"
	assert_eq "$(cgfile cpu cpu.shares)" 300
	assert_eq "$(cgfile cpu cpu.cfs_quota_us)" 30000
	assert_eq "$(cgfile cpu cpu.cfs_period_us)" 60000
}

@test "update: --cpuset-cpus and --cpuset-mems" {
	run -0 runtime update --cpuset-cpus 0 --cpuset-mems 0 "$CTR_ID"
	assert_eq "$(cgfile cpuset cpuset.cpus)" 0
	assert_eq "$(cgfile cpuset cpuset.mems)" 0
	run -0 runtime exec "$CTR_ID" grep Cpus_allowed_list /proc/self/status
	assert_eq "$(awk '{ print $2 }' <<<"$output")" 0
}

@test "update: a lower pids limit is enforced for new processes" {
	run -0 runtime update --pids-limit 5 "$CTR_ID"
	run -0 runtime exec "$CTR_ID" helper forkbomb 50
	local forked
	forked="$(kv "$output" forked)"
	((forked < 5)) || fail "forked $forked with pids.max 5"
	assert_has_line "$output" "error=EAGAIN"
}

@test "update: a lower memory limit is enforced" {
	run -0 runtime update --memory 33554432 --memory-swap 33554432 "$CTR_ID"
	run -137 runtime exec "$CTR_ID" helper alloc 200
}

@test "update: invalid resources JSON fails and changes nothing" {
	echo '{"pids": {"limit": "many"}}' >"$BATS_TEST_TMPDIR/r.json"
	run ! runtime update -r "$BATS_TEST_TMPDIR/r.json" "$CTR_ID"
	assert_eq "$(cgfile pids pids.max)" 100
	echo '{"pids": ' >"$BATS_TEST_TMPDIR/r.json"
	run ! runtime update -r "$BATS_TEST_TMPDIR/r.json" "$CTR_ID"
	assert_eq "$(cgfile pids pids.max)" 100
}

@test "update of an unknown container fails" {
	run ! runtime update --pids-limit 10 "nope-$$"
}

@test "update: a paused container can be updated" {
	runtime pause "$CTR_ID"
	run -0 runtime update --pids-limit 55 "$CTR_ID"
	assert_eq "$(cgfile pids pids.max)" 55
	runtime resume "$CTR_ID"
}
