#!/usr/bin/env bats
# linux.namespaces: new namespaces differ from the host's, absent ones are
# shared, paths are joined; time namespace offsets.

load helpers

host_ns() { readlink "/proc/$$/ns/$1"; }

# Prints "TYPE NS-LINK" for each namespace type, from inside.
ns_probe='for n in pid net ipc uts mnt cgroup user; do echo "$n $(readlink /proc/self/ns/$n)"; done'

ns_in_output() { awk -v n="$2" '$1 == n { print $2 }' <<<"$1"; }

@test "namespaces: each configured namespace differs from the host's" {
	update_config '.linux.namespaces = [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]'
	set_args sh -c "$ns_probe"
	run -0 run_ctr
	local n
	for n in pid net ipc uts mnt cgroup; do
		local inside
		inside="$(ns_in_output "$output" "$n")"
		[[ "$inside" == "$n:["*"]" ]] || fail "$n: bad link \"$inside\""
		[[ "$inside" != "$(host_ns "$n")" ]] || fail "$n namespace is the host's ($inside)"
	done
	# user was not asked for: shared
	assert_eq "$(ns_in_output "$output" user)" "$(host_ns user)" "user namespace"
}

@test "namespaces: a type that is not listed is shared with the host" {
	update_config 'del(.hostname) | .linux.namespaces = [{"type": "pid"}, {"type": "mount"}]'
	set_args sh -c "$ns_probe"
	run -0 run_ctr
	local n
	for n in net ipc uts cgroup user; do
		assert_eq "$(ns_in_output "$output" "$n")" "$(host_ns "$n")" "$n namespace"
	done
	[[ "$(ns_in_output "$output" pid)" != "$(host_ns pid)" ]] || fail "pid namespace is the host's"
}

@test "namespaces: pid namespace makes the process pid 1" {
	set_args sh -c 'echo $$; helper syscall getpid'
	run -0 run_ctr
	assert_eq "$output" $'1\nok 1'
}

@test "namespaces: a new network namespace has only lo" {
	set_args ls /sys/class/net
	run -0 run_ctr
	assert_eq "$output" "lo"
}

@test "namespaces: joining a network namespace by path (ip netns add)" {
	local ns="e2e$$-$BATS_TEST_NUMBER"
	ip netns add "$ns"
	on_teardown ip netns delete "$ns"
	ip netns exec "$ns" ip link add e2edummy0 type veth peer name e2edummy1
	ip netns exec "$ns" ip addr add 10.123.45.6/24 dev e2edummy0
	local want
	want="$(ip netns exec "$ns" readlink /proc/self/ns/net)"
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = $p' --arg p "/var/run/netns/$ns"
	set_args sh -c 'readlink /proc/self/ns/net; ls /sys/class/net; ip -4 addr show e2edummy0 | grep -o "inet [0-9./]*"'
	run -0 run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "$want"
	assert_has_line "$output" "e2edummy0"
	assert_has_line "$output" "inet 10.123.45.6/24"
	# the namespace outlives the container
	ip netns exec "$ns" ip link show e2edummy0 >/dev/null
}

@test "namespaces: joining another container's ipc and uts namespaces by /proc path" {
	update_config '.hostname = "first"'
	set_args sleep 1000
	start_ctr
	local pid1
	pid1="$(ctr_pid)"
	make_bundle "$BATS_TEST_TMPDIR/b2"
	CONFIG="$BATS_TEST_TMPDIR/b2/config.json" update_config '
		del(.hostname) |
		(.linux.namespaces[] | select(.type == "ipc")) .path = $ipc |
		(.linux.namespaces[] | select(.type == "uts")) .path = $uts |
		.process.args = ["sh", "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname"]' \
		--arg ipc "/proc/$pid1/ns/ipc" --arg uts "/proc/$pid1/ns/uts"
	local id2
	id2="$(new_id second)"
	run -0 runtime run --bundle "$BATS_TEST_TMPDIR/b2" "$id2" </dev/null
	assert_eq "$output" "$(readlink /proc/"$pid1"/ns/ipc)"$'\n'"$(readlink /proc/"$pid1"/ns/uts)"$'\nfirst'
}

@test "namespaces: a path that is not a namespace of that type fails" {
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "/proc/self/ns/ipc"'
	run ! run_ctr
	run -0 runtime list -q
	assert_eq "$output" ""
}

@test "namespaces: a path that does not exist fails" {
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "/var/run/netns/does-not-exist-e2e"'
	run ! run_ctr
}

@test "namespaces: cgroup namespace roots /proc/self/cgroup at the container's cgroup" {
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	set_args cat /proc/self/cgroup
	run -0 run_ctr
	# every hierarchy's path is "/" inside a cgroup namespace
	local bad
	bad="$(awk -F: '$3 != "/"' <<<"$output")"
	[[ -z "$bad" ]] || fail "paths not virtualised: $bad"
	[[ -n "$output" ]] || fail "empty /proc/self/cgroup"
}

@test "namespaces: with a cgroup namespace the cgroup mounts are rooted at the container's cgroup" {
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	set_args sh -c "awk '\$5 ~ /^\\/sys\\/fs\\/cgroup\\// { print \$5, \$4 }' /proc/self/mountinfo"
	run -0 run_ctr
	assert_has_line "$output" "/sys/fs/cgroup/pids /"
	assert_has_line "$output" "/sys/fs/cgroup/memory /"
}

@test "namespaces: without a cgroup namespace the real cgroup path shows" {
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	set_args cat /proc/self/cgroup
	run -0 run_ctr
	assert_contains "$output" ":pids:/"
	grep -q ":pids:/.*$CTR_ID" <<<"$output" || fail "pids cgroup path does not name the container: $output"
}

@test "namespaces: time namespace offsets show in /proc/uptime" {
	is_runc && skip "runc 1.1 does not support the time namespace"
	local host_up
	host_up="$(cut -d. -f1 /proc/uptime)"
	update_config '.linux.namespaces += [{"type": "time"}] |
		.linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 172800, "nanosecs": 0}}'
	set_args sh -c 'cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time'
	run -0 run_ctr
	local up
	up="$(sed -n 1p <<<"$output")"
	((up >= host_up + 864000 && up < host_up + 864000 + 60)) || fail "uptime $up, host $host_up"
	[[ "$(sed -n 2p <<<"$output")" != "$(readlink /proc/$$/ns/time)" ]] || fail "time namespace is the host's"
}

@test "namespaces: timeOffsets without a time namespace fails" {
	is_runc && skip "runc 1.1 does not support the time namespace"
	update_config '.linux.timeOffsets = {"boottime": {"secs": 100}}'
	run ! run_ctr
}

@test "namespaces: a new ipc namespace hides host System V objects" {
	# a host message queue (raw msgget, IPC_CREAT|0666), removed afterwards
	local key=238947886 qid
	"$HELPER" syscall nr 68 "$key" 01666 >/dev/null
	qid="$(awk -v k="$key" '$1 == k { print $2 }' /proc/sysvipc/msg)"
	[[ -n "$qid" ]] || fail "host queue not created"
	on_teardown "$HELPER" syscall nr 71 "$qid" 0 0
	set_args cat /proc/sysvipc/msg
	run -0 run_ctr
	[[ "$output" != *"$key"* ]] || fail "host queue visible: $output"
}
