#!/usr/bin/env bats
# berth cp and berth export: docker's path rules both ways, running and
# stopped containers, owners, volumes and binds, symlinks that must lead
# nowhere outside the container, bad input, and no mount left behind.
# What a copy into a container did is checked from inside it (a container
# that prints the files) or in its upper layer on the host.

load berth_helpers

# The container's upper layer (its own files) on the host.
upper() { echo "$BROOT/containers/$(berth inspect -f '{{.Id}}' "$1")/diff"; }

no_mount_of() { # CONTAINER
	local id
	id="$(berth inspect -f '{{.Id}}' "$1")"
	! grep -qF "$id" /proc/self/mountinfo || fail "mount left: $(grep -F "$id" /proc/self/mountinfo)"
}

@test "cp out of a running container: a file, a directory, its content with /., a tar on stdout" {
	berth run -d --name web busybox sh -c \
		'mkdir -p /srv/d/sub && echo one > /srv/d/a && echo two > /srv/d/sub/b && ln -s a /srv/d/l && touch /srv/ready && exec sleep 1000' >/dev/null
	local out="$BATS_TEST_TMPDIR/out"
	mkdir -p "$out/existing" "$out/dir"
	retry 100 0.05 berth cp web:/srv/ready "$out/ready" || fail "the container never got ready"
	run -0 berth cp web:/srv/d/a "$out/file"
	assert_eq "$output" ""
	assert_eq "$(cat "$out/file")" one
	# a file into an existing directory keeps its name
	run -0 berth cp web:srv/d/a "$out/dir/"
	assert_eq "$(cat "$out/dir/a")" one
	# a directory into an existing one lands inside it; to a new name it becomes it
	run -0 berth cp web:/srv/d "$out/existing"
	assert_eq "$(cat "$out/existing/d/sub/b")" two
	[[ "$(readlink "$out/existing/d/l")" == a ]] || fail "symlink not kept as a symlink"
	run -0 berth cp web:/srv/d "$out/new"
	assert_eq "$(cat "$out/new/a")" one
	assert_eq "$(cat "$out/new/sub/b")" two
	# "/." is the content
	mkdir "$out/content"
	run -0 berth cp web:/srv/d/. "$out/content"
	assert_eq "$(ls "$out/content" | tr '\n' ' ')" "a l sub "
	# "-": a tar stream named as docker names it
	run -0 bash -c "'$BERTH' --root '$BROOT' cp web:/srv/d - | tar -t"
	assert_eq "$output" "d/
d/a
d/l
d/sub/
d/sub/b"
	run -0 bash -c "'$BERTH' --root '$BROOT' cp web:/srv/d/sub/b - | tar -xO"
	assert_eq "$output" two
	# the files the engine mounts into the container are seen as the container sees them
	run -0 bash -c "'$BERTH' --root '$BROOT' cp web:/etc/hostname - | tar -xO"
	assert_eq "$output" "$(berth inspect -f '{{.Id}}' web | cut -c1-12)"
	# docker's conflicts
	run -1 berth cp web:/srv/d "$out/file"
	assert_eq "$output" "berth: cannot copy directory"
	run -1 berth cp web:/srv/d/a "$out/nodir/"
	assert_eq "$output" "berth: no such directory"
	run -0 berth ps -q --filter name=web
	[[ -n "$output" ]] || fail "the container stopped"
}

@test "cp in and out of stopped containers: the container sees what was copied in" {
	berth create --name box busybox sh -c 'cat /tmp/in.txt /tmp/tree/x/y /drop/z; ls /tmp/tree' >/dev/null
	local src="$BATS_TEST_TMPDIR/src"
	mkdir -p "$src/tree/x"
	echo "file in" >"$src/in.txt"
	echo "tree in" >"$src/tree/x/y"
	# out of a container that never ran
	run -0 berth cp box:/etc/passwd "$BATS_TEST_TMPDIR/passwd"
	cmp "$BATS_TEST_TMPDIR/passwd" "$(upper box)/../rootfs/etc/passwd" 2>/dev/null ||
		grep -q '^root:' "$BATS_TEST_TMPDIR/passwd" || fail "not the image's passwd"
	run -0 berth cp "$src/in.txt" box:/tmp/
	run -0 berth cp "$src/tree" box:/tmp/tree
	# a missing parent in the container is docker's "could not find"
	run -1 berth cp "$src/tree" box:/opt/tree
	assert_eq "$output" "berth: Could not find the file /opt in container box"
	mkdir -p "$BATS_TEST_TMPDIR/t/drop"
	echo "from a stream" >"$BATS_TEST_TMPDIR/t/drop/z"
	run -0 bash -c "tar -C '$BATS_TEST_TMPDIR/t' -c drop | '$BERTH' --root '$BROOT' cp - box:/"
	no_mount_of box
	run -0 berth start -a box
	assert_eq "$output" "file in
tree in
from a stream
x"
	# and out of the exited one
	run -0 bash -c "'$BERTH' --root '$BROOT' cp box:/tmp/tree/x/y - | tar -xO"
	assert_eq "$output" "tree in"
	# "-" into a path that is not a directory
	run -1 bash -c "tar -C '$BATS_TEST_TMPDIR/t' -c drop | '$BERTH' --root '$BROOT' cp - box:/tmp/in.txt"
	assert_eq "$output" "berth: destination \"box:/tmp/in.txt\" must be a directory"
	no_mount_of box
}

@test "cp -a keeps the owners and modes; without it root owns what is copied in" {
	berth create --name own busybox sh -c 'stat -c "%u:%g %a %n" /tmp/plain /tmp/kept /tmp/kept/f' >/dev/null
	local f="$BATS_TEST_TMPDIR/plain" d="$BATS_TEST_TMPDIR/kept"
	echo x >"$f"
	mkdir "$d"
	echo y >"$d/f"
	chown 1234:5678 "$f" "$d" "$d/f"
	chmod 640 "$f"
	chmod 4750 "$d/f"
	run -0 berth cp "$f" own:/tmp/plain
	run -0 berth cp -a "$d" own:/tmp/
	run -0 berth start -a own
	assert_eq "$output" "0:0 640 /tmp/plain
1234:5678 755 /tmp/kept
1234:5678 4750 /tmp/kept/f"
	# out of the container: the owners come along (berth runs as root)
	run -0 berth cp own:/tmp/kept "$BATS_TEST_TMPDIR/back"
	assert_eq "$(stat -c '%a' "$BATS_TEST_TMPDIR/back/f")" 4750
}

@test "cp: a symlink in the container never leads to the host, either way" {
	local host="$BATS_TEST_TMPDIR/host"
	mkdir -p "$host"
	echo "HOST SECRET" >"$host/secret"
	# the container has the same path with its own content, and links that
	# would reach the host's if they were resolved on the host
	berth run --name evil busybox sh -c "mkdir -p '$host' && echo CONTAINER > '$host/secret' &&
		ln -s ../../../../../../../../../.. /up && ln -s '$host' /abs && ln -s '$host/secret' /abssecret" >/dev/null
	run -0 bash -c "'$BERTH' --root '$BROOT' cp evil:/abs/secret - | tar -xO"
	assert_eq "$output" CONTAINER
	run -0 bash -c "'$BERTH' --root '$BROOT' cp evil:/up$host/secret - | tar -xO"
	assert_eq "$output" CONTAINER
	run -0 berth cp -L evil:/abssecret "$BATS_TEST_TMPDIR/got"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/got")" CONTAINER
	# without -L the link itself comes out
	run -0 berth cp evil:/abssecret "$BATS_TEST_TMPDIR/link"
	assert_eq "$(readlink "$BATS_TEST_TMPDIR/link")" "$host/secret"
	# into the container through the same links
	echo new >"$BATS_TEST_TMPDIR/newfile"
	run -0 berth cp "$BATS_TEST_TMPDIR/newfile" evil:/abs/
	run -0 berth cp "$BATS_TEST_TMPDIR/newfile" evil:/up$host/viaup
	run -0 berth cp "$BATS_TEST_TMPDIR/newfile" evil:/abssecret
	local up
	up="$(upper evil)"
	assert_eq "$(cat "$up$host/newfile")" new
	assert_eq "$(cat "$up$host/viaup")" new
	assert_eq "$(cat "$up$host/secret")" new
	# a stream whose own symlink points at "/" writes into the container's "/"
	mkdir -p "$BATS_TEST_TMPDIR/t"
	ln -s / "$BATS_TEST_TMPDIR/t/root"
	run -0 bash -c "tar -C '$BATS_TEST_TMPDIR/t' -c root | '$BERTH' --root '$BROOT' cp - evil:/tmp"
	python3 - "$BATS_TEST_TMPDIR/through.tar" "${host#/}/viatar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("root/" + sys.argv[2]); i.size = 4
    t.addfile(i, io.BytesIO(b"tar\n"))
PY
	run -0 berth cp - evil:/tmp <"$BATS_TEST_TMPDIR/through.tar"
	assert_eq "$(cat "$up$host/viatar")" tar
	# entries that climb out, and symlinks that would, are refused
	python3 - "$BATS_TEST_TMPDIR/climb.tar" "$BATS_TEST_TMPDIR/badlink.tar" "$host" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../../../../../../.." + sys.argv[3] + "/climbed"); i.size = 1
    t.addfile(i, io.BytesIO(b"x"))
with tarfile.open(sys.argv[2], "w") as t:
    i = tarfile.TarInfo("out"); i.type = tarfile.SYMTYPE; i.linkname = "../../../../../../etc"
    t.addfile(i)
PY
	run -1 berth cp - evil:/tmp <"$BATS_TEST_TMPDIR/climb.tar"
	assert_one_line_error "$output" "is outside of"
	run -1 berth cp - evil:/tmp <"$BATS_TEST_TMPDIR/badlink.tar"
	assert_eq "$output" 'berth: invalid symlink "/tmp/out" -> "../../../../../../etc"'
	# the host's files: untouched, nothing added
	assert_eq "$(cat "$host/secret")" "HOST SECRET"
	assert_eq "$(ls "$host")" secret
	no_mount_of evil
}

@test "cp: a running container's symlinks are resolved inside it too" {
	local host="$BATS_TEST_TMPDIR/host"
	mkdir -p "$host"
	echo "HOST SECRET" >"$host/secret"
	berth run -d --name live busybox sh -c "mkdir -p '$host' && echo CONTAINER > '$host/secret' && ln -s / /slash &&
		ln -s '$host' /abs && touch /ready && exec sleep 1000" >/dev/null
	retry 100 0.05 berth cp live:/ready "$BATS_TEST_TMPDIR/ready" || fail "the container never got ready"
	run -0 bash -c "'$BERTH' --root '$BROOT' cp live:/slash$host/secret - | tar -xO"
	assert_eq "$output" CONTAINER
	echo new >"$BATS_TEST_TMPDIR/newfile"
	run -0 berth cp "$BATS_TEST_TMPDIR/newfile" live:/abs/
	assert_eq "$(ls "$host")" secret
	assert_eq "$(cat "$(upper live)$host/newfile")" new
}

@test "cp: volumes and bind mounts are copied into and out of; read-only ones and --read-only refuse" {
	local bind="$BATS_TEST_TMPDIR/bind"
	mkdir -p "$bind/rw"
	echo "on the host" >"$bind/file"
	berth create --name vols -v data:/data -v "$bind":/bind:ro -v "$bind/rw":/rw busybox cat /data/in >/dev/null
	echo "into the volume" >"$BATS_TEST_TMPDIR/in"
	run -0 berth cp "$BATS_TEST_TMPDIR/in" vols:/data/in
	assert_eq "$(cat "$BROOT/volumes/data/_data/in")" "into the volume"
	run -0 bash -c "'$BERTH' --root '$BROOT' cp vols:/bind/file - | tar -xO"
	assert_eq "$output" "on the host"
	run -0 berth cp "$BATS_TEST_TMPDIR/in" vols:/rw/
	assert_eq "$(cat "$bind/rw/in")" "into the volume"
	run -1 berth cp "$BATS_TEST_TMPDIR/in" vols:/bind/
	assert_eq "$output" "berth: mounted volume is marked read-only"
	[[ ! -e "$bind/in" ]] || fail "written into a read-only bind"
	run -0 berth start -a vols
	assert_eq "$output" "into the volume"
	berth create --name ro --read-only busybox true >/dev/null
	run -1 berth cp "$BATS_TEST_TMPDIR/in" ro:/tmp/
	assert_eq "$output" "berth: container rootfs is marked read-only"
	[[ ! -e "$(upper ro)/tmp/in" ]] || fail "written into a read-only root"
	no_mount_of vols
	no_mount_of ro
}

@test "export: the container's file system as a tar; -o writes the whole file or none" {
	berth run --name ex -v expvol:/vol busybox sh -c 'echo exported > /hello && echo no > /vol/x' >/dev/null
	run -0 bash -c "'$BERTH' --root '$BROOT' export ex > '$BATS_TEST_TMPDIR/ex.tar'"
	run -0 tar -tf "$BATS_TEST_TMPDIR/ex.tar"
	assert_has_line "$output" "hello"
	assert_has_line "$output" "bin/sh"
	assert_has_line "$output" "etc/passwd"
	assert_no_line "$output" "vol/x"
	assert_no_line "$output" "./"
	assert_eq "$(tar -xOf "$BATS_TEST_TMPDIR/ex.tar" hello)" exported
	run -0 berth container export -o "$BATS_TEST_TMPDIR/o.tar" ex
	assert_eq "$output" ""
	cmp "$BATS_TEST_TMPDIR/ex.tar" "$BATS_TEST_TMPDIR/o.tar" || fail "-o and stdout differ"
	# failures leave nothing
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -1 berth export -o "$BATS_TEST_TMPDIR/empty/x.tar" nosuch
	assert_eq "$output" "berth: No such container: nosuch"
	assert_eq "$(ls -A "$BATS_TEST_TMPDIR/empty")" ""
	run -1 berth export -o "$BATS_TEST_TMPDIR/missing/x.tar" ex
	assert_eq "$output" "berth: failed to export container: invalid output path: directory \"$BATS_TEST_TMPDIR/missing\" does not exist"
	# not to a terminal
	run -1 script -qec "'$BERTH' --root '$BROOT' export ex" /dev/null
	assert_contains "$output" "cowardly refusing to save to a terminal. Use the -o flag or redirect"
	no_mount_of ex
}

@test "cp: bad input gets one line and changes nothing" {
	berth create --name bad busybox true >/dev/null
	local out="$BATS_TEST_TMPDIR/out"
	mkdir "$out"
	run -1 berth cp nosuch:/etc/passwd "$out/"
	assert_eq "$output" "berth: No such container: nosuch"
	run -1 berth cp bad:/nothing/here "$out/"
	assert_eq "$output" "berth: Could not find the file /nothing/here in container bad"
	run -1 berth cp "$out" bad:/nothing/here/
	assert_eq "$output" "berth: Could not find the file /nothing in container bad"
	run -1 berth cp bad:/etc/passwd "$out/missing/passwd"
	assert_eq "$output" "berth: invalid output path: directory \"$out/missing\" does not exist"
	run -1 berth cp "$out/nothing" bad:/tmp
	assert_eq "$output" "berth: lstat $out/nothing: No such file or directory"
	run -1 berth cp bad:/a bad:/b
	assert_eq "$output" "berth: copying between containers is not supported"
	run -1 berth cp "$out" "$out/x"
	assert_eq "$output" "berth: must specify at least one container source"
	run -1 berth cp "" bad:/
	assert_eq "$output" "berth: source can not be empty"
	run -1 berth cp bad:/etc
	assert_one_line_error "$output" "usage"
	run -1 bash -c "echo 'not a tar' | '$BERTH' --root '$BROOT' cp - bad:/tmp"
	assert_one_line_error "$output" "tar"
	assert_eq "$(ls -A "$out")" ""
	assert_eq "$(ls -A "$(upper bad)")" ""
	run -0 berth cp --help
	assert_contains "$output" "Usage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-"
	run -0 berth export --help
	assert_contains "$output" "-o, --output string"
	no_mount_of bad
}

@test "cp: nothing stays mounted, even when cp is killed in the middle" {
	berth create --name held busybox cat /tmp/after >/dev/null
	local id
	id="$(berth inspect -f '{{.Id}}' held)"
	# a cp that waits for its stream holds the container's view open
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$BERTH" --root "$BROOT" cp - held:/tmp <"$BATS_TEST_TMPDIR/fifo" 3>&- &
	local pid=$!
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	sleep 0.3
	pid_alive "$pid" || fail "cp did not wait for its input"
	# the view is detached: it is in no mount table
	! grep -qF "$id" /proc/self/mountinfo || fail "the view is visible: $(grep -F "$id" /proc/self/mountinfo)"
	kill -9 "$pid"
	wait "$pid" || true
	exec 4>&-
	assert_eq "$(leftovers "$id" | grep '^mount')" ""
	# the upper layer is free again: the container starts
	echo after >"$BATS_TEST_TMPDIR/after"
	run -0 berth cp "$BATS_TEST_TMPDIR/after" held:/tmp/after
	run -0 berth start -a held
	assert_eq "$output" after
	no_mount_of held
}
