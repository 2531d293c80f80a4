#!/usr/bin/env bats
# berth's images: the store, the builtin busybox, tags, rmi, inspect,
# save/load in docker-archive, oci-archive and OCI layout form, import, and
# what a bad input leaves (nothing).

load berth_helpers

@test "images: busybox is built from the host's busybox-static on first use" {
	run -0 berth images -q
	assert_eq "$output" ""
	run -0 berth image inspect -f '{{.RepoTags}} {{json .Config.Cmd}} {{.Os}}' busybox
	assert_eq "$output" '[busybox:latest] ["sh"] linux'
	local dir
	dir="$(layer_dir busybox)"
	# seen from the outside: the layer on disk holds busybox and its applets
	cmp "$dir/bin/busybox" /bin/busybox
	assert_eq "$(readlink "$dir/bin/sh")" /bin/busybox
	assert_eq "$(stat -c %a "$dir/tmp")" 1777
	assert_eq "$(stat -c %u:%g "$dir/bin/busybox")" 0:0
	grep -q '^root:x:0:0:' "$dir/etc/passwd"
	# the same image (same ID) every time it is built
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	berth rmi busybox
	assert_eq "$(berth image inspect -f '{{.Id}}' busybox)" "$id"
}

@test "images: the table, -q, --no-trunc, --digests and --format json" {
	berth image inspect busybox >/dev/null
	berth tag busybox example.com:5000/team/app:1.0
	run -0 berth images
	assert_eq "$(head -1 <<<"$output" | tr -s ' ')" "REPOSITORY TAG IMAGE ID CREATED SIZE"
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	assert_has_line "$(tr -s ' ' <<<"$output")" "busybox latest ${id:7:12} $(sed -n 2p <<<"$output" | tr -s ' ' | cut -d' ' -f4-)"
	grep -q "^example.com:5000/team/app  *1.0  *${id:7:12} " <<<"$output" || fail "tagged row missing: $output"
	run -0 berth images -q
	assert_eq "$output" "${id:7:12}"
	run -0 berth images -q --no-trunc
	assert_eq "$output" "$id"
	run -0 berth images --digests
	assert_eq "$(head -1 <<<"$output" | tr -s ' ')" "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE"
	run -0 berth images --format json
	assert_eq "$(jq -r 'select(.Repository == "busybox") | .Tag + " " + .ID' <<<"$output")" "latest ${id:7:12}"
	assert_eq "$(wc -l <<<"$output")" 2
}

@test "images: a repository argument and filters select rows" {
	berth image inspect busybox >/dev/null
	berth tag busybox other/name:x
	run -0 berth images busybox
	assert_eq "$(tail -n +2 <<<"$output" | awk '{print $1 ":" $2}')" "busybox:latest"
	run -0 berth images --filter reference='other/*'
	assert_eq "$(tail -n +2 <<<"$output" | awk '{print $1 ":" $2}')" "other/name:x"
	run -0 berth images -q --filter dangling=true
	assert_eq "$output" ""
	run -1 berth images --filter color=red
	assert_contains "$output" "invalid filter 'color'"
}

@test "images: tag names are normalised like docker's" {
	berth image inspect busybox >/dev/null
	berth tag busybox docker.io/library/bb:1
	berth tag busybox index.docker.io/someone/tool
	berth tag busybox LOCALHOST:5000/x
	run -0 berth images --format json
	assert_eq "$(jq -r '.Repository + ":" + .Tag' <<<"$output" | sort | tr '\n' ' ')" \
		"LOCALHOST:5000/x:latest bb:1 busybox:latest someone/tool:latest "
	run -0 berth image inspect -f '{{.Id}}' bb:1
}

@test "images: invalid names and tags are refused with one line, nothing changes" {
	berth image inspect busybox >/dev/null
	local before
	before="$(store_snapshot)"
	local bad
	for bad in "UPPER" "a/B" "a//b" "name:tag with space" "x:-dash" ":" "a@sha256:1234" "-rf"; do
		run -1 berth tag busybox "$bad"
		assert_eq "${#lines[@]}" 1 "$bad: $output"
		assert_contains "$output" "invalid"
	done
	run -1 berth tag busybox "busybox@sha256:$(printf '%064d' 0)"
	assert_contains "$output" "digest"
	run -1 berth tag nosuchimage newname
	assert_eq "$output" "berth: No such image: nosuchimage"
	assert_eq "$(store_snapshot)" "$before"
}

@test "rmi: a tag is removed alone; the last one takes the image, its layer and blobs" {
	berth image inspect busybox >/dev/null
	berth tag busybox second:v
	local id dir
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	dir="$(layer_dir busybox)"
	run -0 berth rmi second:v
	assert_eq "$output" "Untagged: second:v"
	[[ -d "$dir" ]] || fail "layer removed while the image is tagged"
	# by ID with two tags needs -f
	berth tag busybox third:v
	run -1 berth rmi "${id:7:12}"
	assert_contains "$output" "must be forced"
	run -0 berth rmi -f "${id:7:12}"
	assert_has_line "$output" "Deleted: $id"
	assert_has_line "$output" "Untagged: busybox:latest"
	[[ ! -e "$dir" ]] || fail "layer dir left: $dir"
	assert_eq "$(ls "$BROOT/blobs/sha256" | wc -l)" 0
	run -1 berth rmi nothing:here
	assert_contains "$output" "No such image: nothing:here"
	# tags of one repository go together without -f, as in docker
	berth image inspect busybox >/dev/null
	berth tag busybox busybox:two
	run -0 berth rmi "$(berth image inspect -f '{{.Id}}' busybox)"
	assert_has_line "$output" "Untagged: busybox:two"
}

@test "save/load: docker-archive, oci-archive and oci-dir round trips keep the image ID" {
	berth image inspect busybox >/dev/null
	berth tag busybox example.org/round/trip:2
	local id fmt
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	for fmt in docker-archive oci-archive oci-dir; do
		local out="$BATS_TEST_TMPDIR/out-$fmt" root2="$BATS_TEST_TMPDIR/r-$fmt"
		berth save --format "$fmt" -o "$out" example.org/round/trip:2
		run -0 "$BERTH" --root "$root2" load -i "$out"
		assert_eq "$output" "Loaded image: example.org/round/trip:2" "$fmt"
		assert_eq "$("$BERTH" --root "$root2" image inspect -f '{{.Id}}' example.org/round/trip:2)" "$id" "$fmt"
		# the loaded layer is the same tree
		local dir2
		dir2="$("$BERTH" --root "$root2" image inspect -f '{{.GraphDriver.Data.LowerDir}}' "$id")"
		cmp "$dir2/bin/busybox" /bin/busybox
	done
	# stdin and stdout
	berth save busybox | "$BERTH" --root "$BATS_TEST_TMPDIR/r-pipe" load
	assert_eq "$("$BERTH" --root "$BATS_TEST_TMPDIR/r-pipe" image inspect -f '{{.Id}}' busybox)" "$id"
}

@test "save/load: podman loads berth's archives and berth loads podman's" {
	command -v podman >/dev/null || skip "podman not installed"
	local P=(podman --root "$BATS_TEST_TMPDIR/pr" --runroot "$BATS_TEST_TMPDIR/prr" --storage-driver vfs)
	on_teardown "rm -rf '$BATS_TEST_TMPDIR/pr' 2>/dev/null; ${P[*]} system reset -f"
	berth image inspect busybox >/dev/null
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	berth save -o "$BATS_TEST_TMPDIR/b.tar" busybox
	run -0 "${P[@]}" load -i "$BATS_TEST_TMPDIR/b.tar"
	assert_contains "$output" "Loaded image: docker.io/library/busybox:latest"
	# podman runs it: the content is really there
	run -0 "${P[@]}" image inspect --format '{{.Id}}' docker.io/library/busybox:latest
	assert_eq "sha256:$output" "$id"
	local fmt
	for fmt in docker-archive oci-archive; do
		"${P[@]}" save --format "$fmt" -o "$BATS_TEST_TMPDIR/p-$fmt.tar" docker.io/library/busybox:latest
		local root2="$BATS_TEST_TMPDIR/r-$fmt"
		run -0 "$BERTH" --root "$root2" load -i "$BATS_TEST_TMPDIR/p-$fmt.tar"
		assert_contains "$output" "Loaded image: busybox:latest"
		local dir2
		dir2="$("$BERTH" --root "$root2" image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox)"
		cmp "$dir2/bin/busybox" /bin/busybox
	done
}

@test "save/load: skopeo and umoci OCI layouts load into berth, berth's into skopeo" {
	command -v skopeo >/dev/null || skip "skopeo not installed"
	berth image inspect busybox >/dev/null
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	berth save --format oci-dir -o "$BATS_TEST_TMPDIR/layout" busybox
	run -0 skopeo inspect --config "oci:$BATS_TEST_TMPDIR/layout"
	assert_eq "$(jq -r '.rootfs.diff_ids | length' <<<"$output")" 1
	# skopeo copies berth's layout to a new one (re-reading every blob)
	skopeo copy "oci:$BATS_TEST_TMPDIR/layout" "oci:$BATS_TEST_TMPDIR/copy:mytag"
	run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r2" load -i "$BATS_TEST_TMPDIR/copy"
	assert_eq "$output" "Loaded image ID: $id"
	# umoci: an image it builds (an empty one plus a layer it repacks)
	if command -v umoci >/dev/null; then
		local u="$BATS_TEST_TMPDIR/umoci"
		umoci init --layout "$u"
		umoci new --image "$u:base"
		umoci unpack --image "$u:base" "$BATS_TEST_TMPDIR/bundle-u"
		echo hello >"$BATS_TEST_TMPDIR/bundle-u/rootfs/greeting"
		umoci repack --image "$u:base" "$BATS_TEST_TMPDIR/bundle-u"
		run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r3" load -i "$u"
		local loaded="${output#Loaded image ID: }"
		run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r3" image inspect -f '{{.GraphDriver.Data.LowerDir}}' "$loaded"
		assert_eq "$(cat "$output/greeting")" hello
	fi
}

@test "import: a gzip rootfs tarball becomes a one-layer image with --change" {
	local src="$BATS_TEST_TMPDIR/src"
	mkdir -p "$src/bin" "$src/etc"
	cp /bin/busybox "$src/bin/"
	ln -s busybox "$src/bin/sh"
	echo v1 >"$src/etc/version"
	tar -C "$src" -czf "$BATS_TEST_TMPDIR/root.tgz" .
	run -0 berth import -c 'CMD ["/bin/sh","-c","cat /etc/version"]' -c 'ENV A=b' -c 'WORKDIR /etc' \
		"$BATS_TEST_TMPDIR/root.tgz" imported:v1
	local id="$output"
	[[ "$id" == sha256:* ]] || fail "no ID: $id"
	run -0 berth image inspect -f '{{json .Config}}' imported:v1
	assert_eq "$(jq -c '[.Cmd, .Env, .WorkingDir]' <<<"$output")" '[["/bin/sh","-c","cat /etc/version"],["A=b"],"/etc"]'
	assert_eq "$(cat "$(layer_dir imported:v1)/etc/version")" v1
	# from stdin, untagged
	run -0 berth import - <"$BATS_TEST_TMPDIR/root.tgz"
	run -0 berth images -q --filter dangling=true
	assert_eq "$(wc -l <<<"$output")" 1
}

# evil_tar OUT KIND: a layer tar that tries to leave its directory.
evil_tar() {
	python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w") as t:
    def add(name, data=b"x", type=tarfile.REGTYPE, link=""):
        info = tarfile.TarInfo(name)
        info.type = type
        info.linkname = link
        info.size = len(data) if type == tarfile.REGTYPE else 0
        t.addfile(info, io.BytesIO(data) if type == tarfile.REGTYPE else None)
    add("ok", b"fine")
    if kind == "dotdot":
        add("../escaped")
    elif kind == "absolute":
        add("/tmp/absolute-escape")
    elif kind == "symlink":
        add("link", type=tarfile.SYMTYPE, link="/tmp")
        add("link/escaped-through-symlink")
    elif kind == "hardlink":
        add("hard", type=tarfile.LNKTYPE, link="../../../../etc/passwd")
PY
}

@test "import: layers that try to leave their directory fail and leave nothing" {
	berth image inspect busybox >/dev/null
	local before kind
	before="$(store_snapshot)"
	for kind in dotdot absolute symlink hardlink; do
		evil_tar "$BATS_TEST_TMPDIR/$kind.tar" "$kind"
		run -1 berth import "$BATS_TEST_TMPDIR/$kind.tar" "evil:$kind"
		assert_eq "${#lines[@]}" 1 "$kind: $output"
		assert_eq "$(store_snapshot)" "$before" "$kind left something"
	done
	[[ ! -e /tmp/absolute-escape && ! -e /tmp/escaped-through-symlink ]] || fail "a file escaped"
}

@test "load: garbage, a truncated archive and a digest mismatch fail and leave nothing" {
	berth image inspect busybox >/dev/null
	local before
	before="$(store_snapshot)"
	head -c 10000 /dev/urandom >"$BATS_TEST_TMPDIR/garbage"
	run -1 berth load -i "$BATS_TEST_TMPDIR/garbage"
	assert_eq "${#lines[@]}" 1 "$output"
	berth save -o "$BATS_TEST_TMPDIR/good.tar" busybox
	head -c 100000 "$BATS_TEST_TMPDIR/good.tar" >"$BATS_TEST_TMPDIR/truncated.tar"
	run -1 "$BERTH" --root "$BROOT" load -i "$BATS_TEST_TMPDIR/truncated.tar"
	assert_eq "${#lines[@]}" 1 "$output"
	# an OCI layout whose layer blob does not match its digest
	berth save --format oci-dir -o "$BATS_TEST_TMPDIR/bad" busybox
	local layer
	layer="$(jq -r '.layers[0].digest' "$BATS_TEST_TMPDIR/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/bad/index.json" | cut -d: -f2)" | cut -d: -f2)"
	chmod u+w "$BATS_TEST_TMPDIR/bad/blobs/sha256/$layer" 2>/dev/null || true
	cp --remove-destination "$BATS_TEST_TMPDIR/bad/blobs/sha256/$layer" "$BATS_TEST_TMPDIR/tmp-layer"
	echo tampered >>"$BATS_TEST_TMPDIR/tmp-layer"
	mv "$BATS_TEST_TMPDIR/tmp-layer" "$BATS_TEST_TMPDIR/bad/blobs/sha256/$layer"
	local root2="$BATS_TEST_TMPDIR/r2"
	run -1 "$BERTH" --root "$root2" load -i "$BATS_TEST_TMPDIR/bad"
	assert_contains "$output" "digest mismatch"
	assert_eq "$(ls "$root2/layers" | wc -l)" 0
	assert_eq "$("$BERTH" --root "$root2" images -q | wc -l)" 0
	assert_eq "$(store_snapshot)" "$before"
}

@test "load: ten concurrent loads of one archive give one consistent image" {
	berth image inspect busybox >/dev/null
	berth save -o "$BATS_TEST_TMPDIR/a.tar" busybox
	local root2="$BATS_TEST_TMPDIR/r2" i pids=()
	for i in $(seq 10); do
		"$BERTH" --root "$root2" load -q -i "$BATS_TEST_TMPDIR/a.tar" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a concurrent load failed"; done
	assert_eq "$("$BERTH" --root "$root2" images -q | wc -l)" 1
	assert_eq "$(ls "$root2/layers" | wc -l)" 1
	assert_eq "$(ls -A "$root2/tmp" | wc -l)" 0
	cmp "$("$BERTH" --root "$root2" image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox)/bin/busybox" /bin/busybox
}

@test "image prune and system df" {
	berth image inspect busybox >/dev/null
	run -0 berth system df
	assert_eq "$(awk '$1 == "Images" {print $2}' <<<"$output")" 1
	berth import - <<<"" 2>/dev/null || true
	tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/e.tar" --files-from /dev/null
	berth import "$BATS_TEST_TMPDIR/e.tar" >/dev/null
	run -0 berth image prune -f
	assert_has_line "$output" "Deleted Images:"
	run -0 berth images -q
	assert_eq "$(wc -l <<<"$output")" 1
	run -0 berth image prune -a -f
	assert_contains "$output" "Total reclaimed space:"
	assert_eq "$(berth images -q)" ""
	assert_eq "$(ls "$BROOT/layers" | wc -l)" 0
}

@test "load and import: a full disk fails with one line and leaves the store as it was" {
	local small="$BATS_TEST_TMPDIR/small"
	mkdir -p "$small"
	mount -t tmpfs -o size=8m tmpfs "$small"
	on_teardown "umount -l '$small'"
	"$BERTH" --root "$small" image inspect busybox >/dev/null
	local before
	before="$(BROOT="$small" store_snapshot)"
	# an image bigger than what is left: 12 MB of random bytes
	mkdir -p "$BATS_TEST_TMPDIR/big"
	head -c 12000000 /dev/urandom >"$BATS_TEST_TMPDIR/big/blob"
	tar -C "$BATS_TEST_TMPDIR/big" -cf "$BATS_TEST_TMPDIR/big.tar" blob
	berth import "$BATS_TEST_TMPDIR/big.tar" big:1 >/dev/null
	berth save -o "$BATS_TEST_TMPDIR/big-image.tar" big:1
	run -1 "$BERTH" --root "$small" load -i "$BATS_TEST_TMPDIR/big-image.tar"
	assert_eq "${#lines[@]}" 1 "$output"
	assert_contains "$output" "No space left on device"
	assert_eq "$(BROOT="$small" store_snapshot)" "$before"
	run -1 "$BERTH" --root "$small" import "$BATS_TEST_TMPDIR/big.tar" big:2
	assert_eq "${#lines[@]}" 1 "$output"
	assert_eq "$(BROOT="$small" store_snapshot)" "$before"
	# and the store still works
	run -0 "$BERTH" --root "$small" image inspect -f '{{.RepoTags}}' busybox
	assert_eq "$output" "[busybox:latest]"
}

@test "gc keeps every blob an image's current manifest names, whatever layer row came first" {
	berth image inspect busybox >/dev/null
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	# the same image again, its layer gzip-compressed: same chain id, new blob
	berth save --format oci-dir -o "$BATS_TEST_TMPDIR/l" busybox
	python3 - "$BATS_TEST_TMPDIR/l" <<'PY'
import gzip, hashlib, json, os, sys
d = sys.argv[1]
blobs = d + "/blobs/sha256/"
index = json.load(open(d + "/index.json"))
m = json.load(open(blobs + index["manifests"][0]["digest"][7:]))
raw = open(blobs + m["layers"][0]["digest"][7:], "rb").read()
gz = gzip.compress(raw, mtime=0)
digest = hashlib.sha256(gz).hexdigest()
open(blobs + digest, "wb").write(gz)
m["layers"][0] = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest, "size": len(gz)}
mb = json.dumps(m).encode()
md = hashlib.sha256(mb).hexdigest()
open(blobs + md, "wb").write(mb)
index["manifests"][0].update({"digest": "sha256:" + md, "size": len(mb)})
json.dump(index, open(d + "/index.json", "w"))
PY
	berth load -i "$BATS_TEST_TMPDIR/l"
	assert_eq "$(berth image inspect -f '{{.Id}}' busybox)" "$id"
	# any rmi runs gc; the gzip blob the manifest now names must survive
	berth tag busybox other:1
	berth rmi other:1
	berth save -o "$BATS_TEST_TMPDIR/after.tar" busybox
	run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r2" load -i "$BATS_TEST_TMPDIR/after.tar"
	assert_eq "$("$BERTH" --root "$BATS_TEST_TMPDIR/r2" image inspect -f '{{.Id}}' busybox)" "$id"
}

@test "rmi: a tag that looks like an ID prefix names the tag, as in docker" {
	berth image inspect busybox >/dev/null
	printf 'x' >"$BATS_TEST_TMPDIR/x" && tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/x.tar" x
	local other prefix
	other="$(berth import "$BATS_TEST_TMPDIR/x.tar" other:1)"
	prefix="${other:7:6}"
	berth tag busybox "$prefix"
	run -0 berth rmi "$prefix"
	assert_eq "$output" "Untagged: $prefix:latest"
	run -0 berth image inspect -f '{{.Id}}' other:1
	assert_eq "$output" "$other"
	# with no such tag the prefix is an ID again
	run -0 berth rmi "$prefix"
	assert_has_line "$output" "Deleted: $other"
}

@test "save: a failed save -o leaves the file that was there" {
	berth image inspect busybox >/dev/null
	echo precious >"$BATS_TEST_TMPDIR/out.tar"
	# a store blob gone missing makes the save fail half-way
	local layer
	layer="$(berth image inspect -f '{{json .RootFS.Layers}}' busybox | jq -r '.[0]' | cut -d: -f2)"
	rm "$BROOT/blobs/sha256/$layer"
	run -1 berth save -o "$BATS_TEST_TMPDIR/out.tar" busybox
	assert_eq "$(cat "$BATS_TEST_TMPDIR/out.tar")" precious
	assert_eq "$(ls "$BATS_TEST_TMPDIR" | grep -c 'out.tar.berth-' || true)" 0
}

@test "rmi: refused while a container uses the image; -f removes its containers too; prune keeps it" {
	berth image inspect busybox >/dev/null
	berth tag busybox mine:1
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	run -0 berth create --name user mine:1 true
	# another tag: removing one name is fine
	run -0 berth rmi busybox
	assert_eq "$output" "Untagged: busybox:latest"
	run -1 berth rmi mine:1
	assert_contains "$output" 'conflict: unable to remove repository reference "mine:1" (must force) - container'
	run -1 berth rmi "$id"
	assert_contains "$output" "image is being used by container"
	run -0 berth image prune -a -f
	run -0 berth image inspect -f '{{.Id}}' mine:1
	assert_eq "$output" "$id"
	run -0 berth ps -aq
	assert_eq "$(wc -l <<<"$output")" 1
	run -0 berth rmi -f mine:1
	assert_contains "$output" "Deleted: $id"
	run -0 berth ps -aq
	assert_eq "$output" ""
	! grep -qF "$BROOT" /proc/self/mountinfo
}
