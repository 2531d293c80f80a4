#!/usr/bin/env bats
# mounts, root.readonly, maskedPaths, readonlyPaths, rootfsPropagation:
# what /proc/self/mountinfo and the file system show inside the container.

load helpers

# add_mount JSON-OBJECT: appends to .mounts
add_mount() { update_config '.mounts += [$m]' --argjson m "$1"; }

# mountinfo_of DEST: the container's mountinfo line(s) for DEST, printed
# by `run_ctr` of a container that runs `cat /proc/self/mountinfo`.
mountinfo_line() { awk -v d="$2" '$5 == d' <<<"$1" | tail -1; }
# per-mount options (field 6) and super options (last field)
mnt_opts() { awk '{ print $6 }' <<<"$1"; }
super_opts() { awk '{ print $NF }' <<<"$1"; }
has_opt() { [[ ",$1," == *",$2,"* ]]; }
assert_opt() { has_opt "$1" "$2" || fail "option $2 missing in $1"; }
assert_no_opt() { ! has_opt "$1" "$2" || fail "option $2 present in $1"; }

@test "mounts: bind ro is readable and read-only" {
	mkdir "$BATS_TEST_TMPDIR/src"
	echo content >"$BATS_TEST_TMPDIR/src/file"
	add_mount "{\"destination\": \"/mnt/ro\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"bind\", \"ro\"]}"
	set_args sh -c 'cat /mnt/ro/file; helper syscall mkdir /mnt/ro/new; grep " /mnt/ro " /proc/self/mountinfo'
	run run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "content"
	assert_eq "$(sed -n 2p <<<"$output")" "EROFS"
	assert_opt "$(mnt_opts "$(sed -n 3p <<<"$output")")" ro
	[[ ! -e "$BATS_TEST_TMPDIR/src/new" ]] || fail "write went through"
}

@test "mounts: bind rw writes reach the host directory" {
	mkdir "$BATS_TEST_TMPDIR/src"
	add_mount "{\"destination\": \"/mnt/rw\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"rbind\", \"rw\"]}"
	set_args sh -c 'echo from-container >/mnt/rw/out'
	run -0 run_ctr
	assert_eq "$(cat "$BATS_TEST_TMPDIR/src/out")" "from-container"
}

@test "mounts: type none with a bind option is a bind mount (runc spec --rootless style)" {
	mkdir "$BATS_TEST_TMPDIR/src"
	echo x >"$BATS_TEST_TMPDIR/src/marker"
	add_mount "{\"destination\": \"/mnt/b\", \"type\": \"none\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"rbind\", \"ro\"]}"
	set_args cat /mnt/b/marker
	run -0 run_ctr
	assert_eq "$output" "x"
}

@test "mounts: a file can be bind-mounted; the destination file is created" {
	echo "file content" >"$BATS_TEST_TMPDIR/single"
	add_mount "{\"destination\": \"/etc/deep/new/single\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/single\", \"options\": [\"bind\", \"ro\"]}"
	set_args sh -c 'cat /etc/deep/new/single; [ -f /etc/deep/new/single ] && echo is-file'
	run -0 run_ctr
	assert_eq "$output" $'file content\nis-file'
}

@test "mounts: bind does not carry submounts, rbind does" {
	mkdir -p "$BATS_TEST_TMPDIR/src/sub"
	mount -t tmpfs -o size=1m tmpfs "$BATS_TEST_TMPDIR/src/sub"
	on_teardown umount -l "$BATS_TEST_TMPDIR/src/sub"
	echo in-submount >"$BATS_TEST_TMPDIR/src/sub/file"
	add_mount "{\"destination\": \"/mnt/plain\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/mnt/recursive\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"rbind\"]}"
	set_args sh -c 'cat /mnt/plain/sub/file 2>/dev/null || echo absent; cat /mnt/recursive/sub/file'
	run -0 run_ctr
	assert_eq "$output" $'absent\nin-submount'
}

@test "mounts: rro makes submounts read-only too" {
	runtime features 2>/dev/null | jq -e '.mountOptions | index("rro")' >/dev/null ||
		skip "runtime does not list rro in features"
	mkdir -p "$BATS_TEST_TMPDIR/src/sub"
	mount -t tmpfs -o size=1m tmpfs "$BATS_TEST_TMPDIR/src/sub"
	on_teardown umount -l "$BATS_TEST_TMPDIR/src/sub"
	add_mount "{\"destination\": \"/mnt/r\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/src\", \"options\": [\"rbind\", \"rro\"]}"
	set_args sh -c 'helper syscall mkdir /mnt/r/a; helper syscall mkdir /mnt/r/sub/b'
	run run_ctr
	assert_eq "$output" $'EROFS\nEROFS'
}

@test "mounts: tmpfs with size and mode" {
	add_mount '{"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=0710", "nosuid", "nodev"]}'
	set_args sh -c 'stat -c %a /mnt/t; grep " /mnt/t " /proc/self/mountinfo; dd if=/dev/zero of=/mnt/t/big bs=64k count=32 2>/dev/null && echo fits || echo full'
	run -0 run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "710"
	local line
	line="$(sed -n 2p <<<"$output")"
	assert_contains "$line" " - tmpfs "
	assert_opt "$(super_opts "$line")" "size=1024k"
	assert_eq "$(sed -n 3p <<<"$output")" "full"
}

@test "mounts: tmpcopyup starts the tmpfs with the directory's contents; writes stay in the tmpfs" {
	berth_only "tmpcopyup (runc 1.1 does not implement it)"
	mkdir -p "$BUNDLE/rootfs/opt/app/sub"
	echo image-file >"$BUNDLE/rootfs/opt/app/sub/f"
	ln -s sub/f "$BUNDLE/rootfs/opt/app/link"
	chmod 0751 "$BUNDLE/rootfs/opt/app"
	add_mount '{"destination": "/opt/app", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	set_args sh -c 'cat /opt/app/link; stat -c %a /opt/app; grep -c " /opt/app .* - tmpfs " /proc/self/mountinfo; echo new >/opt/app/written'
	run -0 run_ctr
	assert_eq "$output" $'image-file\n751\n1'
	[[ ! -e "$BUNDLE/rootfs/opt/app/written" ]] || fail "a write reached the rootfs under the tmpfs"
}

@test "mounts: nosuid, nodev, noexec are in mountinfo and enforced" {
	add_mount '{"destination": "/mnt/n", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=4m"]}'
	add_mount '{"destination": "/mnt/e", "type": "tmpfs", "source": "tmpfs", "options": ["size=4m"]}'
	set_args sh -c 'grep " /mnt/n " /proc/self/mountinfo; grep " /mnt/e " /proc/self/mountinfo
		cp /bin/busybox /mnt/n/true; /mnt/n/true 2>/dev/null && echo exec-ok || echo exec-denied
		cp /bin/busybox /mnt/e/true; /mnt/e/true && echo exec-ok || echo exec-denied'
	run -0 run_ctr
	local n e
	n="$(mnt_opts "$(sed -n 1p <<<"$output")")"
	e="$(mnt_opts "$(sed -n 2p <<<"$output")")"
	assert_opt "$n" nosuid
	assert_opt "$n" nodev
	assert_opt "$n" noexec
	assert_no_opt "$e" noexec
	assert_no_opt "$e" nosuid
	assert_eq "$(sed -n 3,4p <<<"$output")" $'exec-denied\nexec-ok'
}

@test "mounts: nodev stops device nodes from working" {
	add_mount '{"destination": "/mnt/nd", "type": "tmpfs", "source": "tmpfs", "options": ["nodev", "size=1m"]}'
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]
		| .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
	set_args sh -c 'helper syscall mknod /mnt/nd/null c 1 3 0666; helper syscall open /mnt/nd/null w'
	run run_ctr
	assert_eq "$output" $'ok\nEACCES'
}

@test "mounts: the default mounts have the right types and options" {
	set_args cat /proc/self/mountinfo
	run -0 run_ctr
	local l
	l="$(mountinfo_line "$output" /proc)"
	assert_contains "$l" " - proc "
	l="$(mountinfo_line "$output" /dev)"
	assert_contains "$l" " - tmpfs "
	assert_opt "$(mnt_opts "$l")" nosuid
	l="$(mountinfo_line "$output" /dev/pts)"
	assert_contains "$l" " - devpts "
	assert_opt "$(super_opts "$l")" ptmxmode=666
	assert_opt "$(super_opts "$l")" gid=5
	assert_opt "$(mnt_opts "$l")" noexec
	l="$(mountinfo_line "$output" /dev/shm)"
	assert_contains "$l" " - tmpfs "
	assert_opt "$(mnt_opts "$l")" nodev
	l="$(mountinfo_line "$output" /dev/mqueue)"
	assert_contains "$l" " - mqueue "
	l="$(mountinfo_line "$output" /sys)"
	assert_contains "$l" " - sysfs "
	assert_opt "$(mnt_opts "$l")" ro
}

@test "mounts: proc shows the container's pid namespace" {
	set_args sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; ls /proc | grep -c "^[0-9]"'
	run -0 run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" "sh -c cat /proc/1/cmdline | tr \"\\0\" \" \"; echo; ls /proc | grep -c \"^[0-9]\" "
	(($(sed -n 2p <<<"$output") < 10)) || fail "too many pids visible: $output"
}

@test "mounts: later mounts stack on earlier ones in order" {
	mkdir "$BATS_TEST_TMPDIR/inner"
	echo inner >"$BATS_TEST_TMPDIR/inner/f"
	add_mount '{"destination": "/mnt/stack", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	add_mount "{\"destination\": \"/mnt/stack/inner\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/inner\", \"options\": [\"bind\"]}"
	set_args cat /mnt/stack/inner/f
	run -0 run_ctr
	assert_eq "$output" "inner"
}

@test "mounts: a relative bind source is resolved against the bundle" {
	mkdir "$BUNDLE/hostdir"
	echo relative >"$BUNDLE/hostdir/f"
	add_mount '{"destination": "/mnt/rel", "type": "bind", "source": "hostdir", "options": ["bind"]}'
	set_args cat /mnt/rel/f
	run -0 run_ctr
	assert_eq "$output" "relative"
}

@test "root.readonly: the root is read-only, mounts on it stay writable" {
	update_config '.root.readonly = true'
	add_mount '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	set_args sh -c 'helper syscall mkdir /newdir; helper syscall mkdir /tmp/ok; awk "\$5 == \"/\"" /proc/self/mountinfo'
	run run_ctr
	assert_eq "$(sed -n 1,2p <<<"$output")" $'EROFS\nok'
	assert_opt "$(mnt_opts "$(sed -n 3p <<<"$output")")" ro
	[[ ! -e "$BUNDLE/rootfs/newdir" ]] || fail "write reached the rootfs"
}

@test "root.readonly false: the root is writable" {
	set_args helper syscall mkdir /newdir
	run -0 run_ctr
	assert_eq "$output" "ok"
	[[ -d "$BUNDLE/rootfs/newdir" ]] || fail "not on the rootfs"
}

@test "maskedPaths: masked files read empty, masked directories are empty" {
	[[ "$(head -c 10 /proc/timer_list | wc -c)" == 10 && -n "$(ls -A /sys/firmware)" ]] ||
		skip "host lacks /proc/timer_list or /sys/firmware content: check would be vacuous"
	set_args sh -c 'wc -c </proc/timer_list; ls -A /sys/firmware | wc -l'
	run -0 run_ctr
	assert_eq "$output" $'0\n0'
}

@test "maskedPaths: a path in the rootfs is masked" {
	echo secret >"$BUNDLE/rootfs/etc/secret"
	mkdir "$BUNDLE/rootfs/etc/secretdir"
	echo secret >"$BUNDLE/rootfs/etc/secretdir/f"
	update_config '.linux.maskedPaths += ["/etc/secret", "/etc/secretdir", "/does/not/exist"]'
	set_args sh -c 'cat /etc/secret; echo "[$(cat /etc/secret)]"; ls -A /etc/secretdir | wc -l'
	run -0 run_ctr
	assert_eq "$output" $'[]\n0'
}

@test "readonlyPaths: /proc/sys and friends are read-only" {
	set_args sh -c 'helper syscall open /proc/sys/kernel/hostname w; helper syscall open /proc/sys/net/ipv4/ip_forward w; cat /proc/sys/kernel/ostype'
	run run_ctr
	assert_eq "$output" $'EROFS\nEROFS\nLinux'
}

@test "readonlyPaths: a writable bind mount listed as read-only becomes read-only" {
	mkdir "$BATS_TEST_TMPDIR/data"
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\", \"rw\"]}"
	update_config '.linux.readonlyPaths += ["/data"]'
	set_args sh -c 'helper syscall mkdir /data/x; helper syscall mkdir /tmp/y'
	run run_ctr
	assert_eq "$output" $'EROFS\nok'
}

# A shared host mount point for propagation tests.
shared_source() {
	SRC="$BATS_TEST_TMPDIR/shared"
	mkdir -p "$SRC/late"
	mount --bind "$SRC" "$SRC"
	on_teardown umount -l "$SRC"
	mount --make-shared "$SRC"
}

@test "mounts: rslave receives mounts made on the host afterwards" {
	shared_source
	add_mount "{\"destination\": \"/mnt/p\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rslave\"]}"
	set_args sh -c 'grep " /mnt/p " /proc/self/mountinfo; echo ready; while [ ! -e /mnt/p/late/marker ]; do sleep 0.1; done; echo seen'
	start_ctr
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	assert_contains "$(head -1 "$BATS_TEST_TMPDIR/$CTR_ID.out")" " master:"
	mount -t tmpfs -o size=1m tmpfs "$SRC/late"
	on_teardown umount -l "$SRC/late"
	touch "$SRC/late/marker"
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^seen$'
}

@test "mounts: rprivate does not receive host mounts" {
	shared_source
	add_mount "{\"destination\": \"/mnt/p\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rprivate\"]}"
	set_args sh -c 'grep " /mnt/p " /proc/self/mountinfo; echo ready; sleep 1; [ -e /mnt/p/late/marker ] && echo seen || echo unseen'
	start_ctr
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	local first
	first="$(head -1 "$BATS_TEST_TMPDIR/$CTR_ID.out")"
	[[ "$first" != *" master:"* && "$first" != *" shared:"* ]] || fail "not private: $first"
	mount -t tmpfs -o size=1m tmpfs "$SRC/late"
	on_teardown umount -l "$SRC/late"
	touch "$SRC/late/marker"
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^(seen|unseen)$'
	assert_eq "$(tail -1 "$BATS_TEST_TMPDIR/$CTR_ID.out")" "unseen"
}

@test "mounts: rshared propagates container mounts back to the host" {
	shared_source
	add_mount "{\"destination\": \"/mnt/p\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rshared\"]}"
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]
		| .linux.rootfsPropagation = "shared"'
	set_args sh -c 'grep " /mnt/p " /proc/self/mountinfo; mount -t tmpfs -o size=1m tmpfs /mnt/p/late && touch /mnt/p/late/from-container && echo mounted; echo ready; sleep 2'
	start_ctr
	on_teardown umount -l "$SRC/late"
	wait_for_line "$BATS_TEST_TMPDIR/$CTR_ID.out" '^ready$'
	assert_contains "$(head -1 "$BATS_TEST_TMPDIR/$CTR_ID.out")" " shared:"
	assert_has_line "$(cat "$BATS_TEST_TMPDIR/$CTR_ID.out")" mounted
	[[ -e "$SRC/late/from-container" ]] || fail "container mount did not propagate to the host"
}

@test "rootfsPropagation private: the root mount has no peer group" {
	update_config '.linux.rootfsPropagation = "private"'
	set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	run -0 run_ctr
	[[ "$output" != *" shared:"* && "$output" != *" master:"* ]] || fail "root not private: $output"
}

@test "mounts: an unknown mount type fails create and leaves nothing" {
	add_mount '{"destination": "/mnt/x", "type": "nosuchfs", "source": "none"}'
	run ! run_ctr
	run -0 runtime list -q
	assert_eq "$output" ""
}
