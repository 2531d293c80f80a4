#!/usr/bin/env bats
# process.capabilities: the exact masks the kernel reports in
# /proc/self/status, and what they allow.

load helpers

# cap_mask NAME...: the 16-hex-digit mask /proc/self/status prints.
cap_mask() {
	local -A bit=(
		[CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2 [CAP_FOWNER]=3
		[CAP_FSETID]=4 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7 [CAP_SETPCAP]=8
		[CAP_LINUX_IMMUTABLE]=9 [CAP_NET_BIND_SERVICE]=10 [CAP_NET_BROADCAST]=11
		[CAP_NET_ADMIN]=12 [CAP_NET_RAW]=13 [CAP_IPC_LOCK]=14 [CAP_IPC_OWNER]=15
		[CAP_SYS_MODULE]=16 [CAP_SYS_RAWIO]=17 [CAP_SYS_CHROOT]=18 [CAP_SYS_PTRACE]=19
		[CAP_SYS_PACCT]=20 [CAP_SYS_ADMIN]=21 [CAP_SYS_BOOT]=22 [CAP_SYS_NICE]=23
		[CAP_SYS_RESOURCE]=24 [CAP_SYS_TIME]=25 [CAP_SYS_TTY_CONFIG]=26 [CAP_MKNOD]=27
		[CAP_LEASE]=28 [CAP_AUDIT_WRITE]=29 [CAP_AUDIT_CONTROL]=30 [CAP_SETFCAP]=31
		[CAP_MAC_OVERRIDE]=32 [CAP_MAC_ADMIN]=33 [CAP_SYSLOG]=34 [CAP_WAKE_ALARM]=35
		[CAP_BLOCK_SUSPEND]=36 [CAP_AUDIT_READ]=37 [CAP_PERFMON]=38 [CAP_BPF]=39
		[CAP_CHECKPOINT_RESTORE]=40)
	local m=0 c
	for c in "$@"; do m=$((m | (1 << ${bit[$c]}))); done
	printf '%016x\n' "$m"
}

# set_caps JSON-OBJECT: process.capabilities
set_caps() { update_config ".process.capabilities = $1"; }

caps_of_container() {
	set_args helper caps
	run -0 run_ctr
	CAPS="$output"
}

assert_caps() { # KEY NAME...
	local key="$1"
	shift
	assert_has_line "$CAPS" "$key=$(cap_mask "$@")"
}

@test "capabilities: the default config's three capabilities, nothing more" {
	caps_of_container
	assert_caps CapBnd CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE
	assert_caps CapPrm CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE
	assert_caps CapEff CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE
	assert_caps CapInh
	assert_caps CapAmb
}

@test "capabilities: root with no_new_privs keeps exactly effective/permitted as configured" {
	set_caps '{"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
		"effective": ["CAP_CHOWN", "CAP_KILL"], "permitted": ["CAP_CHOWN", "CAP_KILL"]}'
	caps_of_container
	assert_caps CapBnd CAP_CHOWN CAP_KILL CAP_NET_RAW CAP_SYS_ADMIN
	assert_caps CapPrm CAP_CHOWN CAP_KILL
	assert_caps CapEff CAP_CHOWN CAP_KILL
	assert_caps CapInh
	assert_caps CapAmb
	assert_has_line "$CAPS" "NoNewPrivs=1"
}

@test "capabilities: root without no_new_privs gains the bounding set at exec (kernel rule)" {
	update_config '.process.noNewPrivileges = false'
	set_caps '{"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
		"effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	caps_of_container
	assert_caps CapBnd CAP_CHOWN CAP_KILL CAP_NET_RAW
	assert_caps CapPrm CAP_CHOWN CAP_KILL CAP_NET_RAW
	assert_caps CapEff CAP_CHOWN CAP_KILL CAP_NET_RAW
}

@test "capabilities: non-root user with ambient capabilities" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	set_caps '{"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"],
		"effective": ["CAP_NET_BIND_SERVICE", "CAP_KILL"], "permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		"inheritable": ["CAP_NET_BIND_SERVICE", "CAP_KILL"], "ambient": ["CAP_NET_BIND_SERVICE", "CAP_KILL"]}'
	caps_of_container
	assert_caps CapBnd CAP_CHOWN CAP_KILL CAP_NET_RAW CAP_NET_BIND_SERVICE
	assert_caps CapInh CAP_NET_BIND_SERVICE CAP_KILL
	assert_caps CapAmb CAP_NET_BIND_SERVICE CAP_KILL
	assert_caps CapPrm CAP_NET_BIND_SERVICE CAP_KILL
	assert_caps CapEff CAP_NET_BIND_SERVICE CAP_KILL
}

@test "capabilities: non-root user without ambient has no effective capabilities" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	set_caps '{"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"],
		"permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"]}'
	caps_of_container
	assert_caps CapBnd CAP_CHOWN CAP_KILL
	assert_caps CapInh CAP_KILL
	assert_caps CapPrm
	assert_caps CapEff
	assert_caps CapAmb
}

@test "capabilities: empty or absent means no capabilities at all" {
	set_caps '{}'
	caps_of_container
	local k
	for k in CapBnd CapPrm CapEff CapInh CapAmb; do assert_caps "$k"; done
	update_config 'del(.process.capabilities)'
	caps_of_container
	for k in CapBnd CapPrm CapEff CapInh CapAmb; do assert_caps "$k"; done
}

@test "capabilities: a wide set (everything but CAP_SYS_RESOURCE, which the host lacks)" {
	local all='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL",
		"CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_LINUX_IMMUTABLE","CAP_NET_BIND_SERVICE","CAP_NET_BROADCAST",
		"CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK","CAP_IPC_OWNER","CAP_SYS_MODULE","CAP_SYS_RAWIO",
		"CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_PACCT","CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_NICE",
		"CAP_SYS_TIME","CAP_SYS_TTY_CONFIG","CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL","CAP_SETFCAP","CAP_MAC_OVERRIDE","CAP_MAC_ADMIN","CAP_SYSLOG","CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND","CAP_AUDIT_READ","CAP_PERFMON","CAP_BPF","CAP_CHECKPOINT_RESTORE"]'
	set_caps "{\"bounding\": $all, \"effective\": $all, \"permitted\": $all}"
	caps_of_container
	assert_has_line "$CAPS" "CapBnd=000001fffeffffff"
	assert_has_line "$CAPS" "CapEff=000001fffeffffff"
	assert_has_line "$CAPS" "CapPrm=000001fffeffffff"
}

@test "capabilities: CAP_CHOWN decides whether root may chown" {
	touch "$BUNDLE/rootfs/tmp/file"
	set_caps '{"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
	set_args helper syscall chown /tmp/file 1000 1000
	run -1 run_ctr
	assert_eq "$output" "EPERM"
	set_caps '{"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	run -0 run_ctr
	assert_eq "$output" "ok"
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/file")" "1000:1000"
}

@test "capabilities: CAP_DAC_OVERRIDE decides whether root may read a 000 file" {
	echo secret >"$BUNDLE/rootfs/tmp/locked"
	chmod 000 "$BUNDLE/rootfs/tmp/locked"
	chown 1000:1000 "$BUNDLE/rootfs/tmp/locked"
	set_args helper syscall open /tmp/locked
	set_caps '{"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
	run -1 run_ctr
	assert_eq "$output" "EACCES"
	set_caps '{"bounding": ["CAP_DAC_OVERRIDE"], "effective": ["CAP_DAC_OVERRIDE"], "permitted": ["CAP_DAC_OVERRIDE"]}'
	run -0 run_ctr
	assert_eq "$output" "ok"
}

@test "capabilities: an unknown capability name grants nothing" {
	set_caps '{"bounding": ["CAP_CHOWN", "CAP_NOT_A_CAPABILITY"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	set_args helper caps
	# Rejecting the config and ignoring the name are both acceptable...
	if run_ctr >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"; then
		CAPS="$(cat "$BATS_TEST_TMPDIR/out")"
		assert_caps CapBnd CAP_CHOWN
		assert_caps CapEff CAP_CHOWN
	else
		assert_contains "$(cat "$BATS_TEST_TMPDIR/err")" "CAP_NOT_A_CAPABILITY"
	fi
}
