#!/usr/bin/env bats
# config.json "process" (and hostname/domainname/sysctl/personality): each
# field checked from inside the container.

load helpers

@test "process.args: arguments reach the program unchanged" {
	set_args sh -c 'for a; do echo "[$a]"; done' zero "a b" "" '$HOME' "-c" "ünï"
	run -0 run_ctr
	assert_eq "$output" $'[a b]\n[]\n[$HOME]\n[-c]\n[ünï]'
}

@test "process.args: argv[0] and an absolute path" {
	set_args /bin/sh -c 'echo "$0"' custom-argv0
	run -0 run_ctr
	assert_eq "$output" "custom-argv0"
}

@test "process.env: the environment is exactly what the config sets" {
	update_config '.process.env = ["PATH=/bin", "A=1", "B=with space", "EMPTY=", "HOME=/home/x"]'
	set_args env
	run -0 run_ctr
	assert_has_line "$output" "A=1"
	assert_has_line "$output" "B=with space"
	assert_has_line "$output" "EMPTY="
	assert_has_line "$output" "PATH=/bin"
	assert_has_line "$output" "HOME=/home/x"
	assert_no_line "$output" "TERM=xterm"
	# nothing from the runtime's own environment leaks in
	[[ "$output" != *BATS_* ]] || fail "host environment leaked: $output"
}

@test "process.env: HOME is set from /etc/passwd when absent" {
	update_config '.process.env = ["PATH=/bin"] | .process.user = {"uid": 1000, "gid": 1000}'
	set_args sh -c 'echo "home=$HOME"'
	run -0 run_ctr
	assert_eq "$output" "home=/home/user"
}

@test "process.cwd: the process starts in cwd" {
	update_config '.process.cwd = "/tmp"'
	set_args helper cwd
	run -0 run_ctr
	assert_has_line "$output" "cwd=/tmp"
	assert_has_line "$output" "inside=yes"
}

@test "process.cwd: a missing cwd is created" {
	update_config '.process.cwd = "/new/work/dir"'
	set_args sh -c 'pwd'
	run -0 run_ctr
	assert_eq "$output" "/new/work/dir"
	[[ -d "$BUNDLE/rootfs/new/work/dir" ]] || fail "cwd not created in the rootfs"
}

@test "process.user: uid, gid, additionalGids and umask" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 100], "umask": 63}'
	set_args helper ids
	run -0 run_ctr
	assert_has_line "$output" "uid=1000"
	assert_has_line "$output" "gid=1000"
	assert_has_line "$output" "euid=1000"
	assert_has_line "$output" "egid=1000"
	assert_has_line "$output" "groups=10,100"
	assert_has_line "$output" "umask=0077"
}

@test "process.user: files the process creates belong to uid:gid with the umask applied" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "umask": 18}'
	set_args sh -c 'touch /tmp/owned'
	run -0 run_ctr
	assert_eq "$(stat -c '%u:%g %a' "$BUNDLE/rootfs/tmp/owned")" "1000:1000 644"
}

@test "process.user: root with no additionalGids has no supplementary groups; umask defaults to 0022" {
	set_args helper ids
	run -0 run_ctr
	assert_has_line "$output" "uid=0"
	assert_has_line "$output" "groups="
	assert_has_line "$output" "umask=0022"
}

@test "process.user: a non-root user cannot read root-only files" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	echo secret >"$BUNDLE/rootfs/root/secret"
	chmod 600 "$BUNDLE/rootfs/root/secret"
	set_args helper syscall open /root/secret
	run -1 run_ctr
	assert_eq "$output" "EACCES"
}

@test "process.rlimits: soft and hard limits are applied" {
	update_config '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
		{"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
		{"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
		{"type": "RLIMIT_MSGQUEUE", "soft": 8192, "hard": 16384}]'
	set_args helper rlimits
	run -0 run_ctr
	assert_has_line "$output" "RLIMIT_NOFILE=1000:2000"
	assert_has_line "$output" "RLIMIT_NPROC=300:400"
	assert_has_line "$output" "RLIMIT_CORE=0:4096"
	assert_has_line "$output" "RLIMIT_MSGQUEUE=8192:16384"
}

@test "process.rlimits: limits not listed are inherited unchanged" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}]'
	set_args helper rlimits
	run -0 run_ctr
	assert_has_line "$output" "RLIMIT_NOFILE=512:512"
	local host_stack
	host_stack="$("$HELPER" rlimits | grep '^RLIMIT_STACK=')"
	assert_has_line "$output" "$host_stack"
}

@test "process.noNewPrivileges: true sets no_new_privs" {
	update_config '.process.noNewPrivileges = true'
	set_args helper caps
	run -0 run_ctr
	assert_has_line "$output" "NoNewPrivs=1"
}

@test "process.noNewPrivileges: false leaves no_new_privs off" {
	update_config '.process.noNewPrivileges = false'
	set_args helper caps
	run -0 run_ctr
	assert_has_line "$output" "NoNewPrivs=0"
}

@test "process.oomScoreAdj is applied" {
	update_config '.process.oomScoreAdj = 123'
	set_args cat /proc/self/oom_score_adj
	run -0 run_ctr
	assert_eq "$output" "123"
}

@test "process.oomScoreAdj: absent means inherited from the runtime" {
	update_config 'del(.process.oomScoreAdj)'
	set_args cat /proc/self/oom_score_adj
	run -0 run_ctr
	assert_eq "$output" "$(cat /proc/self/oom_score_adj)"
}

@test "hostname is set in the new uts namespace" {
	update_config '.hostname = "box-one"'
	set_args sh -c 'hostname; cat /proc/sys/kernel/hostname'
	run -0 run_ctr
	assert_eq "$output" $'box-one\nbox-one'
	[[ "$(hostname)" != box-one ]] || fail "host hostname changed"
}

@test "domainname is set in the new uts namespace" {
	is_runc && skip "runc 1.1 ignores the domainname field"
	update_config '.hostname = "box-one" | .domainname = "example.test"'
	set_args sh -c 'cat /proc/sys/kernel/domainname'
	run -0 run_ctr
	assert_eq "$output" "example.test"
	[[ "$(cat /proc/sys/kernel/domainname)" != example.test ]] || fail "host domainname changed"
}

@test "stdin of run reaches the process" {
	set_args sh -c 'read line; echo "got: $line"'
	run -0 bash -c 'echo "from stdin" | "$0" --root "$1" run --bundle "$2" "$3"' "$RUNTIME" "$ROOT" "$BUNDLE" "$CTR_ID"
	assert_eq "$output" "got: from stdin"
}

@test "stdout and stderr stay separate" {
	set_args sh -c 'echo out; echo err >&2'
	run -0 --separate-stderr run_ctr
	assert_eq "$output" "out"
	assert_contains "$stderr" "err"
}

@test "linux.sysctl is applied inside the container's namespaces" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced'
	run -0 run_ctr
	assert_eq "$output" $'1\n1'
}

@test "linux.sysctl: a sysctl of a namespace the container does not own is refused" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces |= map(select(.type != "network"))'
	local before
	before="$(cat /proc/sys/net/ipv4/ip_forward)"
	run ! run_ctr
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$before" "host sysctl changed"
}

@test "linux.personality LINUX32 makes uname report a 32-bit machine" {
	if is_runc && ! runtime features 2>/dev/null | jq -e '.linux | has("personality")' >/dev/null; then
		skip "runc $(runc --version | head -1 | awk '{print $3}') does not implement linux.personality"
	fi
	update_config '.linux.personality = {"domain": "LINUX32"}'
	set_args sh -c 'uname -m; helper syscall personality'
	run -0 run_ctr
	assert_eq "$output" $'i686\nok 0x8'
}

@test "create --no-new-keyring keeps the caller's session keyring; default gets a new one" {
	local host_ring
	host_ring="$("$HELPER" syscall keyctl session)"
	set_args helper syscall keyctl session
	run -0 run_ctr
	[[ "$output" == "ok "* ]] || fail "keyctl in container: $output"
	[[ "$output" != "$host_ring" ]] || fail "default container shares the host session keyring"
	start_ctr "" --no-new-keyring
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(ctr_out)" "$host_ring"
}

@test "apparmorProfile and selinuxLabel on a host without those LSMs: the container runs" {
	[[ ! -d /sys/kernel/security/apparmor && ! -d /sys/fs/selinux ]] || skip "host has AppArmor or SELinux"
	is_runc && skip "runc 1.1 refuses an apparmorProfile when AppArmor is off (berth warns instead)"
	update_config '.process.apparmorProfile = "e2e-profile" | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	set_args echo ran
	run -0 --separate-stderr run_ctr
	assert_eq "$output" ran
	if is_berth; then
		# issue 2: warned about when unsupported
		grep -qi apparmor <<<"$stderr" || fail "no apparmor warning: $stderr"
		grep -qi selinux <<<"$stderr" || fail "no selinux warning: $stderr"
	fi
}

@test "the container gets the caller's CPU set (berth moves init while it sets up)" {
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status'
	run -0 run_ctr
	assert_eq "$output" "$(grep Cpus_allowed_list /proc/self/status)"
	if (($(nproc) > 1)); then
		runtime delete --force "$CTR_ID" >/dev/null 2>&1 || true
		run -0 taskset -c 0 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CTR_ID" </dev/null
		assert_eq "$output" "$(printf 'Cpus_allowed_list:\t0')"
	fi
}

@test "process.scheduler and execCPUAffinity.final are what the process runs with" {
	berth_only "runtime-spec 1.1/1.2 fields (runc 1.1 predates them)"
	(($(nproc) > 1)) || skip "needs two CPUs"
	update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7} | .process.execCPUAffinity = {"initial": "0", "final": "1"}'
	# /proc/self/stat: field 19 is nice, field 41 the policy (3 = SCHED_BATCH)
	set_args sh -c 'cut -d" " -f19,41 /proc/self/stat; grep Cpus_allowed_list /proc/self/status'
	run -0 run_ctr
	assert_eq "$output" "$(printf '7 3\nCpus_allowed_list:\t1')"
}

@test "process.scheduler: a policy the kernel refuses fails create with the policy named" {
	berth_only "runtime-spec 1.1 field"
	update_config '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 1, "period": 1}'
	run ! run_ctr
	assert_contains "$output" "process.scheduler"
}

@test "linux.memoryPolicy is the process's NUMA policy" {
	berth_only "runtime-spec 1.2 field (runc 1.1 predates it)"
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0"}'
	# /proc/self/numa_maps shows the policy of each mapping: "bind:0" once set.
	set_args sh -c 'grep -c " bind:0 " /proc/self/numa_maps'
	run -0 run_ctr
	[[ "$output" -gt 0 ]] || fail "no mapping with bind:0 in numa_maps: $output"
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "63"}'
	run ! run_ctr
	assert_contains "$output" "memoryPolicy"
}
