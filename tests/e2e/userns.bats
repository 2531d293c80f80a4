#!/usr/bin/env bats
# linux.namespaces user + uidMappings/gidMappings: the maps inside, the ids
# the host sees for the container's processes and files.

load helpers

setup() {
	e2e_setup
	# The mapped root is not root on the host: let it traverse to the bundle.
	local d="$BUNDLE"
	while [[ "$d" == "$BATS_RUN_TMPDIR"* && "$d" != "$BATS_RUN_TMPDIR" ]]; do
		chmod a+x "$d"
		d="$(dirname "$d")"
	done
	chmod a+x "$BATS_RUN_TMPDIR"
}

userns_config() { # [extra jq]
	update_config '.linux.namespaces += [{"type": "user"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
		.linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
}

# normalise uid_map/gid_map lines: "inside outside count"
norm_map() { awk '{ print $1, $2, $3 }'; }

@test "userns: uid_map and gid_map inside are the configured mappings" {
	userns_config
	set_args sh -c 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id -u; id -g'
	run -0 run_ctr
	local uid gid
	uid="$(sed -n '1,/^--$/p' <<<"$output" | grep -v -- -- | norm_map)"
	gid="$(sed -n '/^--$/,/^--$/p' <<<"$output" | grep -v -- -- | norm_map)"
	assert_eq "$uid" "0 100000 65536"
	assert_eq "$gid" "0 200000 65536"
	assert_eq "$(tail -2 <<<"$output")" $'0\n0'
}

@test "userns: the host sees the container's root as the mapped ids" {
	userns_config
	set_args sleep 1000
	start_ctr
	local pid
	pid="$(ctr_pid)"
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 100000
	assert_eq "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" 200000
	[[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/$$/ns/user)" ]] || fail "same user namespace"
}

@test "userns: files created by container root belong to the mapped host ids" {
	userns_config
	set_args sh -c 'touch /tmp/by-root; mkdir /tmp/dir'
	run -0 run_ctr
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/by-root")" "100000:200000"
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/dir")" "100000:200000"
}

@test "userns: a container user maps through the ranges" {
	userns_config
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	set_args sh -c 'id -u; id -g; touch /tmp/by-user'
	run -0 run_ctr
	assert_eq "$output" $'1000\n1000'
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/by-user")" "101000:201000"
}

@test "userns: host files owned by unmapped ids show as the overflow id" {
	userns_config
	set_args stat -c %u:%g /bin/busybox
	run -0 run_ctr
	assert_eq "$output" "$(cat /proc/sys/kernel/overflowuid):$(cat /proc/sys/kernel/overflowgid)"
}

@test "userns: several mapping ranges" {
	update_config '.linux.namespaces += [{"type": "user"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 10}] |
		.linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 10}]'
	set_args cat /proc/self/uid_map
	run -0 run_ctr
	assert_eq "$(norm_map <<<"$output")" $'0 100000 1000\n1000 300000 10'
}

@test "userns: capabilities inside do not grant host privileges" {
	userns_config
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"] |
		.process.capabilities.effective += ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"] |
		.process.capabilities.permitted += ["CAP_SYS_ADMIN", "CAP_DAC_OVERRIDE"]'
	echo secret >"$BUNDLE/rootfs/root/hostroot-only"
	chmod 600 "$BUNDLE/rootfs/root/hostroot-only"
	set_args helper syscall open /root/hostroot-only
	run -1 run_ctr
	assert_eq "$output" "EACCES"
}

@test "userns: a user namespace without mappings is rejected" {
	update_config '.linux.namespaces += [{"type": "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
	run ! run_ctr
	run -0 runtime list -q
	assert_eq "$output" ""
}
