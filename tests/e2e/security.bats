#!/usr/bin/env bats
# Escapes that must fail: symlinked mount/device destinations, leaked fds
# and working directories (CVE-2024-21626), /proc/self/exe overwrite
# (CVE-2019-5736), masked paths, mounting without CAP_SYS_ADMIN, setuid
# with no_new_privs.

load helpers

add_mount() { update_config '.mounts += [$m]' --argjson m "$1"; }

# A host directory an escaping runtime would write into.
host_target() {
	HOSTSIDE="$BATS_TEST_TMPDIR/hostside"
	mkdir -p "$HOSTSIDE"
	echo untouched >"$HOSTSIDE/marker"
}

assert_hostside_untouched() {
	run -0 ls -A "$HOSTSIDE"
	assert_eq "$output" "marker" "host directory $HOSTSIDE was written to"
	assert_eq "$(cat "$HOSTSIDE/marker")" untouched
}

@test "security: rootfs/etc -> / : a mount on /etc/X does not touch the host's /X" {
	local name="e2e-escape-$$-$BATS_TEST_NUMBER"
	[[ ! -e "/$name" ]] || fail "/$name exists before the test"
	on_teardown "umount -l /$name; rmdir /$name"
	rm -rf "$BUNDLE/rootfs/etc"
	ln -s / "$BUNDLE/rootfs/etc"
	add_mount "{\"destination\": \"/etc/$name\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\"]}"
	set_args sh -c "grep -c ' /$name ' /proc/self/mountinfo"
	if run_ctr >"$BATS_TEST_TMPDIR/out" 2>&1; then
		# resolved inside the rootfs: /etc is the container's /, so the
		# mount is at /$name in the container
		assert_eq "$(cat "$BATS_TEST_TMPDIR/out")" 1
		[[ -d "$BUNDLE/rootfs/$name" ]] || fail "mount point not inside the rootfs"
	fi
	[[ ! -e "/$name" ]] || fail "the runtime created /$name on the host"
	! grep -q " /$name " /proc/self/mountinfo || fail "mounted on the host's /$name"
}

@test "security: a mount destination through an absolute symlink stays inside the rootfs" {
	host_target
	ln -s "$HOSTSIDE" "$BUNDLE/rootfs/evil"
	add_mount '{"destination": "/evil/escaped", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	set_args sh -c "awk '\$5 ~ /escaped/ { print \$5 }' /proc/self/mountinfo"
	if run_ctr >"$BATS_TEST_TMPDIR/out" 2>&1; then
		# resolved inside the rootfs: the mount is at $HOSTSIDE inside it
		assert_eq "$(cat "$BATS_TEST_TMPDIR/out")" "$HOSTSIDE/escaped"
		[[ -d "$BUNDLE/rootfs$HOSTSIDE/escaped" ]] || fail "mount point not created inside the rootfs"
	fi
	assert_hostside_untouched
}

@test "security: a mount destination through a relative ../ symlink stays inside the rootfs" {
	host_target
	# from $BUNDLE/rootfs/evil, ../../hostside is $BATS_TEST_TMPDIR/hostside on the host
	ln -s ../../hostside "$BUNDLE/rootfs/evil"
	add_mount '{"destination": "/evil/escaped", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	set_args true
	if run_ctr >/dev/null 2>&1; then
		[[ -d "$BUNDLE/rootfs/hostside/escaped" ]] || fail "mount point not created inside the rootfs"
	fi
	assert_hostside_untouched
}

@test "security: a file bind mount through a symlink does not create or cover a host file" {
	host_target
	ln -s "$HOSTSIDE" "$BUNDLE/rootfs/evil"
	echo payload >"$BATS_TEST_TMPDIR/payload"
	add_mount "{\"destination\": \"/evil/marker\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/payload\", \"options\": [\"bind\"]}"
	set_args cat "$HOSTSIDE/marker"
	run run_ctr
	if ((status == 0)); then
		assert_eq "$output" payload
	fi
	assert_hostside_untouched
}

@test "security: /proc as a symlink out of the rootfs does not mount proc on the host path" {
	host_target
	rmdir "$BUNDLE/rootfs/proc"
	ln -s "$HOSTSIDE" "$BUNDLE/rootfs/proc"
	set_args sh -c 'ls /proc/self/status'
	run run_ctr
	assert_hostside_untouched
	grep -q " $HOSTSIDE " /proc/self/mountinfo && fail "proc mounted on the host path" || true
}

@test "security: a device path through a symlink stays inside the rootfs" {
	host_target
	ln -s "$HOSTSIDE" "$BUNDLE/rootfs/evil"
	update_config '.linux.devices = [{"path": "/evil/e2e-null", "type": "c", "major": 1, "minor": 3, "fileMode": 438}]'
	set_args true
	run run_ctr
	assert_hostside_untouched
}

@test "security: no host file descriptor leaks into the container" {
	set_args helper fds
	# open some fds in the caller; none may reach the container
	run -0 bash -c 'exec 5<"$3" 7>/dev/null 9<>"$4"; "$0" --root "$1" run --bundle "$2" "$5" </dev/null' \
		"$RUNTIME" "$ROOT" "$BUNDLE" "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/rw" "$CTR_ID"
	assert_eq "$output" "total 0"
}

@test "security: no fd leaks through create/start either" {
	set_args helper fds
	bash -c 'exec 5<"$3" 8>/dev/null; "$0" --root "$1" create --bundle "$2" "$4" </dev/null >"$5" 2>&1' \
		"$RUNTIME" "$ROOT" "$BUNDLE" "$BUNDLE/config.json" "$CTR_ID" "$BATS_TEST_TMPDIR/$CTR_ID.out"
	CTR_PIDS+=("$(ctr_pid)")
	runtime start "$CTR_ID"
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(ctr_out)" "total 0"
}

@test "security: --preserve-fds passes exactly the fds asked for" {
	set_args helper fds
	run -0 bash -c 'exec 3<"$3" 4>/dev/null 5>/dev/null; "$0" --root "$1" run --preserve-fds 1 --bundle "$2" "$4" </dev/null' \
		"$RUNTIME" "$ROOT" "$BUNDLE" "$BUNDLE/config.json" "$CTR_ID"
	assert_eq "$(tail -1 <<<"$output")" "total 1"
	grep -q "^3 .*config.json$" <<<"$output" || fail "fd 3 not preserved: $output"
}

@test "security: the working directory of a new container is inside it (CVE-2024-21626)" {
	set_args helper cwd
	run -0 run_ctr
	assert_eq "$output" $'cwd=/\ninside=yes'
}

@test "security: process.cwd /proc/self/fd/N never leaves the process outside the rootfs" {
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		set_args helper cwd
		if run_ctr >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"; then
			has_line "$(cat "$BATS_TEST_TMPDIR/out")" "inside=yes" ||
				fail "cwd /proc/self/fd/$n escaped: $(cat "$BATS_TEST_TMPDIR/out")"
		fi
		runtime delete --force "$CTR_ID" >/dev/null 2>&1 || true
	done
}

@test "security: exec --cwd /proc/self/fd/N never leaves the process outside the rootfs" {
	set_args sleep 1000
	start_ctr
	run -0 runtime exec "$CTR_ID" helper cwd
	assert_eq "$output" $'cwd=/\ninside=yes'
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		if runtime exec --cwd "/proc/self/fd/$n" "$CTR_ID" helper cwd >"$BATS_TEST_TMPDIR/out" 2>&1; then
			has_line "$(cat "$BATS_TEST_TMPDIR/out")" "inside=yes" ||
				fail "exec cwd /proc/self/fd/$n escaped: $(cat "$BATS_TEST_TMPDIR/out")"
		fi
	done
	# and the exec'd process has no stray fds
	run -0 runtime exec "$CTR_ID" helper fds
	assert_eq "$output" "total 0"
}

@test "security: the runtime binary cannot be overwritten through /proc/PID/exe (CVE-2019-5736)" {
	# Always attack a copy: never the real binary.
	local rtdir="$BATS_TEST_TMPDIR/rt" copy before out="$BATS_TEST_TMPDIR/$CTR_ID.out"
	mkdir "$rtdir"
	copy="$rtdir/$(basename "$RUNTIME")"
	cp "$RUNTIME" "$copy"
	before="$(sha256sum <"$copy")"
	RUNTIME="$copy" # this test's container is driven entirely by the copy
	# The CVE's vector: an executable whose interpreter is /proc/self/exe,
	# i.e. whatever binary the runtime's process in the container runs from.
	printf '#!/proc/self/exe --help\n' >"$BUNDLE/rootfs/bin/evil"
	chmod 755 "$BUNDLE/rootfs/bin/evil"
	set_args helper exe-overwrite watch 60
	start_ctr
	wait_for_line "$out" '^ready$'
	# Its stdout and stderr are a full pipe, so if the runtime binary does
	# run in the container it blocks there (printing its help) while the
	# container grabs a handle on its exe.
	on_teardown touch "$BATS_TEST_TMPDIR/go"
	"$HELPER" stuck-stdout --stderr --until "$BATS_TEST_TMPDIR/go" --timeout 60 -- \
		"$copy" --root "$ROOT" exec "$CTR_ID" /bin/evil >"$BATS_TEST_TMPDIR/exec.out" &
	local stuck=$!
	on_teardown kill "$stuck"
	# An exposed binary is grabbed at once; give it 5s, then let the exec
	# finish (a runtime that refused to run it only has an error to print).
	retry 100 0.05 grep -q "^grabbed " "$out" || true
	touch "$BATS_TEST_TMPDIR/go"
	wait "$stuck" || true
	if grep -q '^grabbed ' "$out"; then
		# each handle is tried for writing once its process has exited
		retry 600 0.05 eval '(( $(grep -c "^result " "$out") >= $(grep -c "^grabbed " "$out") ))' ||
			fail "no write attempt result"
		echo "# runtime binary was visible in the container; writes refused" >&3
	else
		echo "# runtime did not run /proc/self/exe in the container: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/exec.out" | head -c 200)" >&3
	fi
	runtime kill "$CTR_ID" KILL 2>/dev/null || true
	wait_for_status "$CTR_ID" stopped
	echo "container saw:" >&2
	cat "$out" >&2
	! grep -q overwritten "$out" || fail "the container overwrote the runtime binary"
	assert_eq "$(sha256sum <"$copy")" "$before" "runtime binary changed"
	! grep -q BERTH-E2E-EXE-OVERWRITE "$copy" || fail "marker found in the binary"
}

@test "security: a created container's pid 1 is the sealed start stub, not the runtime (CVE-2019-5736)" {
	berth_only "the start stub"
	local rtdir="$BATS_TEST_TMPDIR/rt" copy before pid
	mkdir "$rtdir"
	copy="$rtdir/$(basename "$RUNTIME")"
	cp "$RUNTIME" "$copy"
	before="$(sha256sum <"$copy")"
	RUNTIME="$copy"
	set_args true
	create_ctr
	pid="$(ctr_pid)"
	# from the host: the exe of the waiting init is the stub's memfd
	assert_eq "$(readlink "/proc/$pid/exe")" "/memfd:berth-start (deleted)"
	# sealed against writes, so even once it stops running (no more
	# ETXTBSY) a handle on it cannot change it
	run -0 python3 -c 'import fcntl, sys; fd = open(sys.argv[1], "rb"); print(fcntl.fcntl(fd, fcntl.F_GET_SEALS) & fcntl.F_SEAL_WRITE != 0)' "/proc/$pid/exe"
	assert_eq "$output" True
	# from inside (an exec'd process, the only way in before start): writes
	# to pid 1's exe are refused
	run runtime exec "$CTR_ID" helper exe-overwrite 1
	[[ "$output" == "result 1 ETXTBSY" || "$output" == "result 1 EPERM" ]] || fail "write to pid 1's exe: $output"
	runtime start "$CTR_ID"
	wait_for_status "$CTR_ID" stopped
	assert_eq "$(sha256sum <"$copy")" "$before" "runtime binary changed"
}

@test "security: an entrypoint that runs /proc/self/exe gets the stub, which refuses" {
	berth_only "the start stub"
	printf '#!/proc/self/exe\n' >"$BUNDLE/rootfs/bin/evil"
	chmod 755 "$BUNDLE/rootfs/bin/evil"
	set_args /bin/evil
	run -127 run_ctr
	assert_eq "$output" "berth-runtime: the start stub is internal to berth-runtime"
}

@test "security: masked paths cannot be read" {
	set_args sh -c 'for f in /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $f ] && echo "$f $(wc -c <$f)"; done; echo "firmware $(ls -A /sys/firmware | wc -l)"'
	run -0 run_ctr
	local line
	while read -r line; do
		assert_eq "${line##* }" 0 "$line"
	done <<<"$output"
	has_line "$output" "/proc/timer_list 0" || has_line "$output" "/proc/keys 0" || fail "nothing checked: $output"
}

@test "security: a masked path cannot be unmasked without CAP_SYS_ADMIN" {
	set_args sh -c 'helper syscall umount /proc/timer_list; helper syscall umount /sys/firmware; wc -c </proc/timer_list'
	run run_ctr
	assert_eq "$output" $'EPERM\nEPERM\n0'
}

@test "security: a process without CAP_SYS_ADMIN cannot mount" {
	set_args sh -c 'helper syscall mount none /mnt tmpfs; helper syscall mount /proc /mnt none 4096; helper syscall unshare mnt'
	run run_ctr
	assert_eq "$output" $'EPERM\nEPERM\nEPERM'
}

@test "security: no_new_privs stops a setuid binary from gaining root" {
	cp "$HELPER" "$BUNDLE/rootfs/bin/suid-helper"
	chown 0:0 "$BUNDLE/rootfs/bin/suid-helper"
	chmod 4755 "$BUNDLE/rootfs/bin/suid-helper"
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false'
	set_args suid-helper ids
	run -0 run_ctr
	assert_has_line "$output" "euid=0" # the control: setuid works without no_new_privs
	update_config '.process.noNewPrivileges = true'
	run -0 run_ctr
	assert_has_line "$output" "euid=1000"
}

@test "security: --no-pivot still confines the process to the rootfs" {
	set_args sh -c 'ls /; [ -e /etc/debian_version ] && echo host-visible || echo confined'
	run -0 runtime run --no-pivot --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_has_line "$output" "confined"
	assert_has_line "$output" "bin"
	[[ "$output" != *"$(basename "$BATS_RUN_TMPDIR")"* ]] || fail "host tmp visible: $output"
}

@test "security: the container cannot see host processes" {
	set_args sh -c 'ls /proc | grep -c "^[0-9]"'
	run -0 run_ctr
	((output <= 3)) || fail "$output pids visible"
}
