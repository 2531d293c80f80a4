#!/usr/bin/env bats
# Default devices, linux.devices, and the devices cgroup (resources.devices).

load helpers

# /dev/kmsg (char 1:11) is not a default device: good for allow/deny tests.
# Opening it write-only needs no capability; reading needs CAP_SYSLOG.
KMSG='{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 432, "uid": 0, "gid": 0}'

@test "devices: the default devices exist with the right numbers and modes" {
	set_args sh -c 'for d in null zero full random urandom tty; do echo "$d $(stat -c "%F %t:%T %a" /dev/$d)"; done'
	run -0 run_ctr
	assert_has_line "$output" "null character special file 1:3 666"
	assert_has_line "$output" "zero character special file 1:5 666"
	assert_has_line "$output" "full character special file 1:7 666"
	assert_has_line "$output" "random character special file 1:8 666"
	assert_has_line "$output" "urandom character special file 1:9 666"
	assert_has_line "$output" "tty character special file 5:0 666"
}

@test "devices: /dev/ptmx leads to the container's devpts, /dev/fd and stdio links exist" {
	set_args sh -c 'stat -L -c "%t:%T" /dev/ptmx; for l in fd stdin stdout stderr; do readlink /dev/$l; done'
	run -0 run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "5:2"
	assert_eq "$(sed -n 2,5p <<<"$output")" $'/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2'
}

@test "devices: the default devices work" {
	set_args sh -c 'head -c 5 /dev/zero | wc -c; head -c 16 /dev/urandom | wc -c; echo x >/dev/null && echo null-ok;
		helper syscall open /dev/full w; echo x >/dev/full 2>/dev/null || echo full-enospc'
	run -0 run_ctr
	assert_eq "$output" $'5\n16\nnull-ok\nok\nfull-enospc'
}

@test "devices: a pty can be allocated from /dev/ptmx" {
	set_args sh -c 'helper syscall open /dev/ptmx rw && ls /dev/pts'
	run -0 run_ctr
	assert_has_line "$output" "ok"
	assert_has_line "$output" "ptmx"
}

@test "devices: a configured device node has the given type, numbers, mode and owner" {
	update_config '.linux.devices = [{"path": "/dev/e2e-null", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 1000}]'
	set_args sh -c 'stat -c "%F %t:%T %a %u:%g" /dev/e2e-null; helper syscall open /dev/e2e-null w'
	run run_ctr
	# root without CAP_DAC_OVERRIDE may not write a 0640 node owned by 1000
	assert_eq "$output" $'character special file 1:3 640 1000:1000\nEACCES'
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	run -0 run_ctr
	assert_eq "$output" $'character special file 1:3 640 1000:1000\nok'
}

@test "devices: a configured device in a subdirectory is created with its parents" {
	update_config '.linux.devices = [{"path": "/dev/sub/dir/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 438}]'
	set_args sh -c 'stat -c "%F %t:%T" /dev/sub/dir/zero; head -c 3 /dev/sub/dir/zero | wc -c'
	run -0 run_ctr
	assert_eq "$output" $'character special file 1:5\n3'
}

@test "devices cgroup: a device that is not allowed cannot be opened" {
	update_config ".linux.devices = [$KMSG]"
	set_args sh -c 'stat -c "%t:%T" /dev/kmsg; helper syscall open /dev/kmsg w'
	run run_ctr
	assert_eq "$output" $'1:b\nEPERM'
}

@test "devices cgroup: an allow rule with access w permits writing only" {
	update_config ".linux.devices = [$KMSG] | .linux.resources.devices += [{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]"
	set_args helper syscall open /dev/kmsg w
	run -0 run_ctr
	assert_eq "$output" "ok"
	update_config ".linux.resources.devices |= map(if .minor == 11 then .access = \"r\" else . end)"
	run -1 run_ctr
	assert_eq "$output" "EPERM"
}

@test "devices cgroup: a later deny rule overrides an earlier allow" {
	update_config ".linux.devices = [$KMSG] | .linux.resources.devices += [
		{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"rwm\"},
		{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]"
	set_args helper syscall open /dev/kmsg w
	run -1 run_ctr
	assert_eq "$output" "EPERM"
}

@test "devices cgroup: the container's devices.list holds the rules" {
	update_config ".linux.resources.devices += [{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]"
	set_args sleep 1000
	start_ctr
	local dir
	dir="$(cgroup_dir "$(ctr_pid)" devices)"
	run -0 cat "$dir/devices.list"
	assert_has_line "$output" "c 1:11 w"
	assert_has_line "$output" "c 1:3 rwm"
	assert_no_line "$output" "a *:* rwm"
}
