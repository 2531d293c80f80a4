#!/usr/bin/env bats
# berth diff and berth commit: a container's file system changes as docker
# lists them, and an image made of them that runs with the changes (and
# nothing else: the runtime's mount points stay out), its config from the
# container and --change, the pause around the commit, and bad input that
# leaves the store as it was.

load berth_helpers

# A small image of known content (the busybox image's /bin and /usr
# depend on the host's busybox build): base:1.
base_image() {
	local src="$BATS_TEST_TMPDIR/src" a
	mkdir -p "$src"/{bin,etc,data,opq,srv,proc,sys,dev,tmp}
	cp /bin/busybox "$src/bin/"
	for a in sh cat ls rm mkdir ln sleep chmod chown stat mknod touch grep wc uniq sed true; do ln -s busybox "$src/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$src/etc/passwd"
	echo 'root:x:0:' >"$src/etc/group"
	echo keep >"$src/data/keep"
	echo old >"$src/data/change"
	echo gone >"$src/data/gone"
	echo 1 >"$src/opq/old1"
	echo 2 >"$src/opq/old2"
	chmod 1777 "$src/tmp"
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/base.tar" .
	berth import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' "$BATS_TEST_TMPDIR/base.tar" base:1 >/dev/null
}

# Adds, changes and deletes files, replaces a directory (rm -rf, mkdir: an
# opaque directory in the upper layer), makes nested directories.
CHANGES='echo new >/data/new; echo changed >/data/change; rm /data/gone; rm -rf /opq; mkdir /opq; echo fresh >/opq/fresh; mkdir -p /srv/sub; ln -s /data/keep /srv/sub/link'

# What docker 28 prints for CHANGES (checked against dockerd; docker's own
# order is its Go map's, berth's is the walk's: parents first, names sorted).
EXPECTED='C /data
C /data/change
D /data/gone
A /data/new
C /opq
A /opq/fresh
D /opq/old1
D /opq/old2
C /srv
A /srv/sub
A /srv/sub/link'

@test "diff: docker's A/C/D lines for added, changed, deleted files and a replaced directory" {
	base_image
	run -0 berth run --name changed base:1 sh -c "$CHANGES"
	run -0 berth diff changed
	assert_eq "$output" "$EXPECTED"
	# the runtime's mount points for /etc/hosts, /etc/hostname and
	# /etc/resolv.conf (the image has none) are in the upper directory, but
	# not changes: docker keeps them in its init layer
	local id
	id="$(berth inspect -f '{{.Id}}' changed)"
	[[ -e "$BROOT/containers/$id/diff/etc/hosts" ]] || fail "no mount point in the upper layer: the test proves nothing"
	# container diff is the same command
	run -0 berth container diff "${id:0:12}"
	assert_eq "$output" "$EXPECTED"
	# a container that changed nothing: no output
	run -0 berth run --name same base:1 true
	run -0 berth diff same
	assert_eq "$output" ""
}

@test "diff: a running container's changes as they happen; unknown container" {
	base_image
	run -0 berth run -d --name live base:1 sh -c 'echo 1 >/data/x; sleep 1000'
	retry 100 0.05 bash -c "[[ \"\$('$BERTH' --root '$BROOT' diff live)\" == *'A /data/x'* ]]" ||
		fail "no change seen: $(berth diff live)"
	run -0 berth diff live
	assert_eq "$output" $'C /data\nA /data/x'
	run -1 --separate-stderr berth diff nosuch
	assert_one_line_error "$stderr" "No such container: nosuch"
	run -1 berth diff
	run -0 berth diff --help
	assert_contains "$output" "Usage:  berth diff CONTAINER"
}

@test "commit: the new image runs with the container's changes" {
	base_image
	run -0 berth run --name changed base:1 sh -c "$CHANGES"
	run -0 --separate-stderr berth commit changed snap:v1
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "not an image ID: $output"
	local id="$output"
	run -0 berth image inspect -f '{{.Id}} {{.RepoTags}} {{json .RootFS.Layers}}' snap:v1
	assert_eq "$(jq -r length <<<"${output##* }")" 2
	assert_eq "${output% *}" "$id [snap:v1]"
	run -0 berth run --rm snap:v1 sh -c 'cat /data/new /data/change /data/keep; ls /data/gone 2>&1; ls /opq; cat /srv/sub/link'
	assert_eq "$output" "new
changed
keep
ls: /data/gone: No such file or directory
fresh
keep"
	# the layer holds the changes only, in OCI form: whiteouts as .wh.
	# entries, the replaced directory with its opaque marker, no mount points
	local blob
	blob="$(berth image inspect -f '{{json .RootFS.Layers}}' snap:v1 | jq -r '.[1]')"
	run -0 tar -tf "$BROOT/blobs/sha256/${blob#sha256:}"
	assert_eq "$(sort <<<"$output")" "$(sort <<<'data/
data/change
data/.wh.gone
data/new
opq/
opq/.wh..wh..opq
opq/fresh
srv/
srv/sub/
srv/sub/link')"
	# unpacked as a pulled layer: its directory is the image's top lowerdir
	assert_eq "$(cat "$(layer_dir snap:v1)/data/new")" new
	# an image of an image of a container
	run -0 berth run --name second snap:v1 sh -c 'rm /data/new; echo again, longer >/opq/fresh'
	run -0 berth diff second
	assert_eq "$output" $'C /data\nD /data/new\nC /opq\nC /opq/fresh'
	run -0 berth commit second snap:v2
	run -0 berth run --rm snap:v2 sh -c 'ls /data; cat /opq/fresh'
	assert_eq "$output" $'change\nkeep\nagain, longer'
}

@test "commit: owners, modes, hard links, symlinks, devices and xattrs are kept; symlinks are never followed" {
	base_image
	run -0 berth run --name special base:1 sh -c 'echo s >/data/s; chown 1234:5678 /data/s; chmod 4710 /data/s
		ln /data/keep /data/keep2; mknod /data/null c 1 3; ln -s /etc/shadow /data/leak; ln -s / /data/root'
	local id
	id="$(berth inspect -f '{{.Id}}' special)"
	# an xattr of the container's own (set from outside: busybox has no setfattr)
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.berth", b"kept")' "$BROOT/containers/$id/diff/data/s"
	run -0 berth commit special special:1
	run -0 berth run --rm special:1 sh -c 'stat -c "%u %g %a" /data/s; stat -c %i /data/keep /data/keep2 | uniq | wc -l
		stat -c "%F %t,%T" /data/null; ls -l /data/leak /data/root | sed "s/.* -> /-> /"'
	assert_eq "$output" "1234 5678 4710
1
character special file 1,3
-> /etc/shadow
-> /"
	local dir
	dir="$(layer_dir special:1)"
	assert_eq "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.berth").decode())' "$dir/data/s")" kept
	# the link to the host's /etc/shadow stays a link, / was not walked
	[[ -L "$dir/data/leak" && -L "$dir/data/root" ]] || fail "symlinks not stored as symlinks"
	[[ ! -e "$dir/data/root/etc" || -L "$dir/data/root" ]] || fail "walked through a symlink"
	# overlay's own xattrs (trusted.overlay.origin on copied-up
	# directories) stay out of the layer
	local blob
	blob="$(berth image inspect -f '{{json .RootFS.Layers}}' special:1 | jq -r '.[1]')"
	run -0 python3 - "$BROOT/blobs/sha256/${blob#sha256:}" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        for k in m.pax_headers:
            if k.startswith("SCHILY.xattr."):
                print(m.name, k[len("SCHILY.xattr."):])
PY
	assert_eq "$output" "data/s user.berth"
}

@test "commit: --change, --message and --author shape the config and its history" {
	base_image
	run -0 berth run --name cfg -e FROM_RUN=1 -w /data base:1 true
	run -0 berth commit -m "my message" -a "Me <me@example.com>" -c 'CMD ["sh","-c","echo $GREETING from $PWD"]' \
		-c 'ENV GREETING=hello' -c 'LABEL k=v' -c 'EXPOSE 8080' -c 'USER 0:0' -c 'STOPSIGNAL SIGINT' -c 'VOLUME /vol' \
		-c 'WORKDIR sub' cfg cfg:1
	local id="$output"
	run -0 berth image inspect -f '{{json .Config.Cmd}} {{json .Config.Env}} {{.Config.WorkingDir}} {{json .Config.Labels}} {{json .Config.ExposedPorts}} {{.Config.User}} {{.Config.StopSignal}} {{json .Config.Volumes}}' cfg:1
	assert_eq "$output" '["sh","-c","echo $GREETING from $PWD"] ["PATH=/bin","FROM_RUN=1","GREETING=hello"] /data/sub {"k":"v"} {"8080/tcp":{}} 0:0 SIGINT {"/vol":{}}'
	run -0 berth image inspect -f '{{.Comment}}|{{.Author}}' cfg:1
	assert_eq "$output" "my message|Me <me@example.com>"
	# the history entry as docker writes it: the container's command, no
	# layer (the container changed nothing but its mount points)
	local config="$BROOT/blobs/sha256/${id#sha256:}"
	assert_eq "$(jq -c '.history[-1] | [.created_by, .comment, .author, .empty_layer]' "$config")" '["true","my message","Me <me@example.com>",true]'
	assert_eq "$(jq -r '.container' "$config")" "$(berth inspect -f '{{.Id}}' cfg)"
	assert_eq "$(jq -c '.container_config.Cmd' "$config")" '["true"]'
	run -0 berth image inspect -f '{{json .RootFS.Layers}}' cfg:1
	assert_eq "$(jq length <<<"$output")" 1
	# a run sees it
	run -0 berth run --rm cfg:1
	assert_eq "$output" "hello from /data/sub"
	# ENTRYPOINT drops the Cmd, as in a Dockerfile
	run -0 berth commit -c 'ENTRYPOINT ["/bin/busybox", "echo"]' cfg cfg:2
	run -0 berth image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' cfg:2
	assert_eq "$output" '["/bin/busybox","echo"] null'
	run -0 berth run --rm cfg:2 a b
	assert_eq "$output" "a b"
}

@test "commit: a running container is paused for the walk and runs on after; --pause=false does not pause" {
	base_image
	run -0 berth run -d --name busy base:1 sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.01; done'
	local id freezer
	id="$(berth inspect -f '{{.Id}}' busy)"
	freezer="$(find /sys/fs/cgroup/freezer -maxdepth 3 -type d -name "$id" | head -1)"
	[[ -n "$freezer" ]] || skip "no freezer cgroup for the container"
	# enough data for the walk to take a while
	head -c 64M /dev/zero >"$BROOT/containers/$id/diff/big"
	local states="$BATS_TEST_TMPDIR/states"
	(while :; do cat "$freezer/freezer.state"; done >"$states" 2>/dev/null) &
	local watcher=$!
	run -0 berth commit busy busy:1
	kill "$watcher"
	wait "$watcher" 2>/dev/null || true
	grep -q FROZEN "$states" || fail "never frozen during the commit: $(sort "$states" | uniq -c)"
	assert_eq "$(cat "$freezer/freezer.state")" THAWED
	run -0 berth inspect -f '{{.State.Status}} {{.State.Paused}}' busy
	assert_eq "$output" "running false"
	# still counting
	local count="$BROOT/containers/$id/diff/tmp/count" first
	retry 50 0.05 grep -q . "$count" || fail "no count"
	first="$(cat "$count")"
	retry 100 0.05 bash -c "(( \$(cat '$count' || echo 0) > $first ))" || fail "the container does not run after the commit"
	# without the pause it is never frozen
	(while :; do cat "$freezer/freezer.state"; done >"$states" 2>/dev/null) &
	watcher=$!
	run -0 berth commit --pause=false busy busy:2
	kill "$watcher"
	wait "$watcher" 2>/dev/null || true
	! grep -q FROZEN "$states" || fail "frozen with --pause=false"
	# a paused container stays paused
	berth pause busy
	run -0 berth commit -p busy busy:3
	run -0 berth inspect -f '{{.State.Status}}' busy
	assert_eq "$output" paused
	berth unpause busy
}

@test "commit: bad input fails with one line and leaves the store as it was" {
	base_image
	run -0 berth run --name ctr base:1 sh -c 'echo x >/data/x'
	local before
	before="$(store_snapshot)"
	run -1 --separate-stderr berth commit nosuch
	assert_one_line_error "$stderr" "No such container: nosuch"
	run -1 --separate-stderr berth commit ctr 'Bad:Ref!'
	assert_one_line_error "$stderr"
	run -1 --separate-stderr berth commit ctr "name@sha256:$(printf '%064d' 0)"
	assert_one_line_error "$stderr" "digest"
	run -1 --separate-stderr berth commit -c 'RUN echo hi' ctr x:1
	assert_one_line_error "$stderr" "run is not a valid change command"
	run -1 --separate-stderr berth commit -c 'STOPSIGNAL NOSUCH' ctr x:1
	assert_one_line_error "$stderr" "NOSUCH"
	run -1 --separate-stderr berth commit -c 'ENV' ctr x:1
	assert_one_line_error "$stderr" "ENV"
	run -1 --separate-stderr berth commit -c 'EXPOSE 99999' ctr x:1
	assert_one_line_error "$stderr" "99999"
	run -125 --separate-stderr berth commit --pause=maybe ctr x:1
	assert_contains "$stderr" "maybe"
	run -1 berth commit
	assert_eq "$(store_snapshot)" "$before"
	# the container is untouched by it all
	run -0 berth diff ctr
	assert_eq "$output" $'C /data\nA /data/x'
	run -0 berth commit --help
	assert_contains "$output" "-p, --pause"
}
