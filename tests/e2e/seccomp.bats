#!/usr/bin/env bats
# linux.seccomp: actions seen from inside (errno values, signals), argument
# conditions, SCMP_ACT_NOTIFY through listenerPath.

load helpers

# seccomp_rules JSON-ARRAY-OF-RULES [DEFAULT-ACTION]
seccomp_rules() {
	update_config '.linux.seccomp = {"defaultAction": $dflt,
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": $rules}' --argjson rules "$1" --arg dflt "${2:-SCMP_ACT_ALLOW}"
}

# The compiled filters kept under the state root (berth-runtime), one a line.
seccomp_cache_entries() { find "$ROOT/seccomp-cache" -mindepth 1 -maxdepth 1 2>/dev/null | sort; }

# seccomp_probe ID: creates and starts ID with the bundle, waits for it to
# stop and prints what it wrote.
seccomp_probe() {
	start_ctr "$1" || return 1
	wait_for_status "$1" stopped
	ctr_out "$1"
	runtime delete "$1"
}

@test "seccomp: a denied syscall returns the configured errno" {
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	set_args sh -c 'helper syscall mkdir /tmp/x; mkdir /tmp/y 2>&1; helper syscall rmdir /bin'
	run run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "EXDEV"
	assert_contains "$(sed -n 2p <<<"$output")" "ross-device"
	# other syscalls are untouched
	assert_eq "$(sed -n 3p <<<"$output")" "ENOTEMPTY"
	[[ ! -e "$BUNDLE/rootfs/tmp/x" && ! -e "$BUNDLE/rootfs/tmp/y" ]] || fail "mkdir went through"
}

@test "seccomp: SCMP_ACT_ERRNO without errnoRet gives EPERM" {
	seccomp_rules '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]'
	set_args helper syscall mkdir /tmp/x
	run -1 run_ctr
	assert_eq "$output" "EPERM"
}

@test "seccomp: the filter is installed (Seccomp: 2 in /proc/self/status)" {
	seccomp_rules '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]'
	set_args helper caps
	run -0 run_ctr
	assert_has_line "$output" "Seccomp=2"
	update_config 'del(.linux.seccomp)'
	run -0 run_ctr
	assert_has_line "$output" "Seccomp=0"
}

@test "seccomp: argument conditions select which calls are denied" {
	seccomp_rules '[{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
		"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]'
	set_args sh -c 'helper syscall personality 8; helper syscall personality'
	run run_ctr
	assert_eq "$output" $'EINVAL\nok 0x0'
}

@test "seccomp: SCMP_CMP_MASKED_EQ on flags" {
	# deny unshare when CLONE_NEWUSER (0x10000000) is among the flags
	seccomp_rules '[{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		"args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]}]'
	set_args sh -c 'helper syscall unshare user; helper syscall unshare user,uts'
	run run_ctr
	assert_eq "$output" $'EPERM\nEPERM'
}

@test "seccomp: SCMP_ACT_KILL kills the process with SIGSYS" {
	seccomp_rules '[{"names": ["getcwd"], "action": "SCMP_ACT_KILL"}]'
	set_args helper syscall getcwd
	run -159 run_ctr
	[[ "$output" != ok* ]] || fail "syscall returned: $output"
}

@test "seccomp: SCMP_ACT_TRAP delivers SIGSYS" {
	seccomp_rules '[{"names": ["getcwd"], "action": "SCMP_ACT_TRAP"}]'
	set_args helper syscall getcwd
	run -159 run_ctr
}

@test "seccomp: SCMP_ACT_LOG allows the call" {
	seccomp_rules '[{"names": ["getcwd"], "action": "SCMP_ACT_LOG"}]'
	set_args helper syscall getcwd
	run -0 run_ctr
	assert_eq "$output" "ok /"
}

@test "seccomp: a default action of ERRNO with an allow list" {
	# Everything busybox sh + the helper need; anything else fails with ENOSYS.
	local allow='["read","write","openat","open","close","fstat","newfstatat","stat","lstat","statx","mmap","munmap","mprotect","brk",
		"rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","access","execve","execveat","exit","exit_group","arch_prctl",
		"set_tid_address","set_robust_list","rseq","prlimit64","getpid","getppid","getuid","geteuid","getgid","getegid",
		"uname","fcntl","getdents64","readlink","readlinkat","futex","clone","clone3","fork","vfork","wait4","dup2","dup3",
		"pipe","pipe2","lseek","getrandom","sigaltstack","capget","capset","prctl","setgroups","setuid","setgid","setresuid",
		"setresgid","getcwd","chdir","fchdir","poll","ppoll","select","pselect6","nanosleep","clock_nanosleep","clock_gettime",
		"getpgrp","setpgid","getpgid","setsid","umask","sysinfo","tgkill","kill","gettid","madvise","mremap","close_range",
		"pread64","writev","readv","faccessat","faccessat2","getrlimit","setrlimit","keyctl","seccomp","sched_getaffinity",
		"sched_yield","epoll_create1","epoll_ctl","epoll_wait","epoll_pwait","socketpair","sendmsg","recvmsg","socket",
		"connect","getsockopt","setsockopt","fsync","fchown","fchmod","fchownat","personality","unlinkat","getgroups","fstatfs","statfs",
		"openat2","pidfd_open","pidfd_send_signal","waitid","epoll_pwait2","nanosleep","mlock","membarrier","sched_setaffinity",
		"setns","getsid","newfstatat","fchmodat","dup","getrusage","times","alarm","pause","sendto","recvfrom","shutdown","bind","listen","accept4"]'
	seccomp_rules "[{\"names\": $allow, \"action\": \"SCMP_ACT_ALLOW\"}]" SCMP_ACT_ERRNO
	update_config '.linux.seccomp.defaultErrnoRet = 38'
	set_args sh -c 'helper syscall getcwd; helper syscall mkdir /tmp/x; helper syscall sethostname foo'
	run run_ctr
	assert_eq "$output" $'ok /\nENOSYS\nENOSYS'
}

@test "seccomp: a profile that denies execveat still runs the container's program" {
	# The start stub is entered with execveat after the filter is loaded: with
	# execveat denied the runtime must take its other path, not fail.
	seccomp_rules '[{"names": ["execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]'
	set_args sh -c 'readlink /proc/self/exe; grep ^Seccomp: /proc/self/status'
	run -0 run_ctr
	assert_eq "$output" $'/bin/busybox\nSeccomp:\t2'
}

@test "seccomp: filter flags are accepted and the filter still works" {
	is_runc && skip "runc 1.1: seccomp flags are not yet supported"
	seccomp_rules '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG"]'
	set_args sh -c 'helper syscall mkdir /tmp/x; grep Seccomp_filters /proc/self/status'
	run run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" EXDEV
	[[ "$(sed -n 2p <<<"$output" | awk '{ print $2 }')" -ge 1 ]] || fail "no filter: $output"
}

@test "seccomp: exec'd processes get the container's filter" {
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	set_args sleep 1000
	start_ctr
	run -1 runtime exec "$CTR_ID" helper syscall mkdir /tmp/x
	assert_eq "$output" "EXDEV"
}

@test "seccomp: SCMP_ACT_NOTIFY sends the listener fd and state; answers reach the process" {
	local sock="$BATS_TEST_TMPDIR/seccomp.sock" log="$BATS_TEST_TMPDIR/listener.log"
	"$HELPER" seccomp-listener "$sock" --ret 42 --timeout 30 >"$log" 2>&1 &
	local listener=$!
	on_teardown kill "$listener"
	wait_for_file "$sock"
	seccomp_rules '[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]'
	update_config '.linux.seccomp.listenerPath = $p | .linux.seccomp.listenerMetadata = "e2e-metadata"' --arg p "$sock"
	set_args sh -c 'helper syscall mkdir /tmp/notified; [ -d /tmp/notified ] && echo exists || echo absent'
	run -0 run_ctr
	assert_eq "$output" $'ok 42\nabsent'
	wait "$listener" || true
	local state
	state="$(sed -n 's/^state //p' "$log")"
	[[ -n "$state" ]] || fail "listener got no state: $(cat "$log")"
	assert_eq "$(jq -c .fds <<<"$state")" '["seccompFd"]'
	assert_eq "$(jq -r .metadata <<<"$state")" "e2e-metadata"
	assert_eq "$(jq -r .state.id <<<"$state")" "$CTR_ID"
	[[ "$(jq -r .pid <<<"$state")" =~ ^[1-9][0-9]*$ ]] || fail "no pid in $state"
	assert_has_line "$(cat "$log")" "fd ok"
	grep -q "^notify pid=[0-9]* nr=83$" "$log" || fail "no mkdir notification: $(cat "$log")"
	# a filter with notify rules is left to libseccomp: nothing cached
	assert_eq "$(seccomp_cache_entries)" ""
}

@test "seccomp: SCMP_ACT_NOTIFY without a listener fails create" {
	seccomp_rules '[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]'
	update_config '.linux.seccomp.listenerPath = $p' --arg p "$BATS_TEST_TMPDIR/nobody-listens.sock"
	run ! run_ctr
	run -0 runtime list -q
	assert_eq "$output" ""
}

@test "seccomp: the compiled filter is cached; the next container loads it and behaves the same" {
	berth_only "the compiled-filter cache"
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
		 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]'
	set_args sh -c 'helper syscall mkdir /tmp/x; helper syscall rmdir /bin; helper syscall personality 8;
		helper syscall personality; grep ^Seccomp: /proc/self/status'
	# denied, allowed (the kernel's own error), denied by argument, allowed
	local expected=$'EXDEV\nENOTEMPTY\nEINVAL\nok 0x0\nSeccomp:\t2'
	assert_eq "$(seccomp_cache_entries)" ""
	local first second entry stamp
	first="$(new_id first)"
	second="$(new_id second)"
	run -0 seccomp_probe "$first"
	assert_eq "$output" "$expected"
	entry="$(seccomp_cache_entries)"
	[[ -f "$entry" && "$(basename "$entry")" =~ ^[0-9a-f]{16}$ ]] || fail "want one cache entry, got: '$entry'"
	assert_eq "$(stat -c %a "$ROOT/seccomp-cache")" 700
	stamp="$(stat -c '%i %Y %s' "$entry")"
	run -0 seccomp_probe "$second"
	assert_eq "$output" "$expected"
	# served from the entry, not compiled and written again
	assert_eq "$(seccomp_cache_entries)" "$entry"
	assert_eq "$(stat -c '%i %Y %s' "$entry")" "$stamp"
	[[ ! -e "$BUNDLE/rootfs/tmp/x" ]] || fail "mkdir went through"
}

@test "seccomp: a changed profile gets a cache entry of its own" {
	berth_only "the compiled-filter cache"
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	set_args helper syscall mkdir /tmp/x
	run -1 run_ctr
	assert_eq "$output" "EXDEV"
	local first
	first="$(seccomp_cache_entries)"
	[[ -f "$first" ]] || fail "no cache entry: '$first'"
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 19}]'
	run -1 run_ctr
	assert_eq "$output" "ENODEV"
	[[ "$(seccomp_cache_entries | wc -l)" -eq 2 ]] || fail "want two entries: $(seccomp_cache_entries)"
	# and the first profile still gets its own program
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	run -1 run_ctr
	assert_eq "$output" "EXDEV"
	[[ "$(seccomp_cache_entries | wc -l)" -eq 2 ]] || fail "want two entries: $(seccomp_cache_entries)"
}

@test "seccomp: a damaged cache entry is compiled again and replaced" {
	berth_only "the compiled-filter cache"
	seccomp_rules '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	set_args helper syscall mkdir /tmp/x
	run -1 run_ctr
	assert_eq "$output" "EXDEV"
	local entry good
	entry="$(seccomp_cache_entries)"
	good="$(sha256sum <"$entry")"
	truncate -s 100 "$entry"
	run -1 run_ctr
	assert_eq "$output" "EXDEV"
	assert_eq "$(sha256sum <"$entry")" "$good"
	# same size, one byte of the program changed
	printf '\xff' | dd of="$entry" bs=1 seek=$(($(stat -c %s "$entry") - 12)) conv=notrunc status=none
	run -1 run_ctr
	assert_eq "$output" "EXDEV"
	assert_eq "$(sha256sum <"$entry")" "$good"
	assert_eq "$(seccomp_cache_entries)" "$entry"
}

@test "seccomp: the cache directory's name cannot be a container id" {
	berth_only "the compiled-filter cache"
	run ! runtime create --bundle "$BUNDLE" seccomp-cache
	assert_contains "$output" "reserved"
	run -0 runtime list -q
	assert_eq "$output" ""
}
