#!/usr/bin/env bats
# berth pull / push / login against Debian's real docker-registry, with
# skopeo, umoci and podman on the other side.

load berth_helpers

# A two-layer image built by umoci (no berth involved), as an OCI layout.
umoci_image() { # DIR
	command -v umoci >/dev/null || skip "umoci not installed"
	local u="$1" b="$BATS_TEST_TMPDIR/umoci-bundle"
	umoci init --layout "$u"
	umoci new --image "$u:v"
	umoci unpack --image "$u:v" "$b"
	mkdir -p "$b/rootfs/etc" && echo one >"$b/rootfs/etc/first"
	umoci repack --image "$u:v" "$b"
	rm -rf "$b"
	umoci unpack --image "$u:v" "$b"
	echo two >"$b/rootfs/etc/second" && rm "$b/rootfs/etc/first"
	umoci repack --image "$u:v" "$b"
	rm -rf "$b"
}

@test "registry: an image pushed by skopeo is pulled by berth, layers and whiteouts intact" {
	start_registry
	umoci_image "$BATS_TEST_TMPDIR/u"
	skopeo copy --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/u:v" "docker://$REGISTRY/from/skopeo:v"
	run -0 berth pull "$REGISTRY/from/skopeo:v"
	assert_has_line "$output" "v: Pulling from from/skopeo"
	assert_has_line "$output" "$REGISTRY/from/skopeo:v"
	assert_contains "$output" "Status: Downloaded newer image for $REGISTRY/from/skopeo:v"
	# the top layer deletes etc/first: an overlay whiteout (0/0 char device)
	local top bottom
	top="$(layer_dir "$REGISTRY/from/skopeo:v" 0)"
	bottom="$(layer_dir "$REGISTRY/from/skopeo:v" 1)"
	assert_eq "$(cat "$bottom/etc/first")" one
	assert_eq "$(cat "$top/etc/second")" two
	assert_eq "$(stat -c '%F %t:%T' "$top/etc/first")" "character special file 0:0"
	# RepoDigests records what the registry served
	local digest
	digest="$(skopeo inspect --tls-verify=false "docker://$REGISTRY/from/skopeo:v" | jq -r .Digest)"
	assert_eq "$(berth image inspect -f '{{json .RepoDigests}}' "$REGISTRY/from/skopeo:v")" "[\"$REGISTRY/from/skopeo@$digest\"]"
	# a second pull downloads nothing
	run -0 berth pull "$REGISTRY/from/skopeo:v"
	assert_contains "$output" "Status: Image is up to date"
	# by digest
	run -0 berth pull "$REGISTRY/from/skopeo@$digest"
}

@test "registry: an image pushed by berth is pulled by skopeo and podman" {
	start_registry
	berth image inspect busybox >/dev/null
	berth tag busybox "$REGISTRY/by/berth:1"
	run -0 berth push "$REGISTRY/by/berth:1"
	assert_has_line "$output" "The push refers to repository [$REGISTRY/by/berth]"
	local id diff
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	diff="$(berth image inspect -f '{{json .RootFS.Layers}}' busybox)"
	run -0 skopeo inspect --tls-verify=false --config "docker://$REGISTRY/by/berth:1"
	assert_eq "$(jq -c .rootfs.diff_ids <<<"$output")" "$diff"
	skopeo copy --src-tls-verify=false "docker://$REGISTRY/by/berth:1" "oci:$BATS_TEST_TMPDIR/copy:x"
	if command -v podman >/dev/null; then
		local P=(podman --root "$BATS_TEST_TMPDIR/pr" --runroot "$BATS_TEST_TMPDIR/prr" --storage-driver vfs)
		on_teardown "${P[*]} system reset -f"
		"${P[@]}" pull -q --tls-verify=false "$REGISTRY/by/berth:1"
		assert_eq "sha256:$("${P[@]}" image inspect --format '{{.Id}}' "$REGISTRY/by/berth:1")" "$id"
	fi
	# pushing again finds every blob there
	run -0 berth push "$REGISTRY/by/berth:1"
	assert_contains "$output" "Layer already exists"
	# to another repository: the layer is mounted or skipped, never uploaded again
	berth tag busybox "$REGISTRY/other/repo:1"
	run -0 berth push "$REGISTRY/other/repo:1"
	[[ "$output" != *": Pushed"* ]] || fail "layer uploaded again: $output"
}

@test "registry: a manifest list is resolved for the platform" {
	command -v podman >/dev/null || skip "podman not installed"
	start_registry
	berth image inspect busybox >/dev/null
	berth tag busybox "$REGISTRY/multi/img:amd64"
	berth push -q "$REGISTRY/multi/img:amd64"
	local P=(podman --root "$BATS_TEST_TMPDIR/pr" --runroot "$BATS_TEST_TMPDIR/prr" --storage-driver vfs)
	on_teardown "${P[*]} system reset -f"
	"${P[@]}" manifest create list >/dev/null
	"${P[@]}" manifest add --tls-verify=false list "docker://$REGISTRY/multi/img:amd64" >/dev/null
	"${P[@]}" manifest push --tls-verify=false --all list "docker://$REGISTRY/multi/img:list" >/dev/null 2>&1
	local id
	id="$(berth image inspect -f '{{.Id}}' busybox)"
	run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r2" pull -q "$REGISTRY/multi/img:list"
	assert_eq "$("$BERTH" --root "$BATS_TEST_TMPDIR/r2" image inspect -f '{{.Id}}' "$REGISTRY/multi/img:list")" "$id"
	run -1 "$BERTH" --root "$BATS_TEST_TMPDIR/r3" pull -q --platform linux/s390x "$REGISTRY/multi/img:list"
	assert_eq "${#lines[@]}" 1 "$output"
	assert_contains "$output" "no image for platform linux/s390x (the index has: linux/amd64)"
}

@test "registry: login, push and pull with basic auth; without credentials a 401 error" {
	local pw="$BATS_TEST_TMPDIR/htpasswd"
	htpasswd_line alice s3cret >"$pw"
	start_registry "$pw"
	berth image inspect busybox >/dev/null
	berth tag busybox "$REGISTRY/private/img:1"
	local auth="$BATS_TEST_TMPDIR/auth.json"
	run -1 berth push --authfile "$auth" "$REGISTRY/private/img:1"
	assert_contains "${lines[-1]}" "unauthorized"
	run -1 berth login --authfile "$auth" -u alice -p wrong "$REGISTRY"
	assert_eq "${#lines[@]}" 1 "$output"
	[[ ! -e "$auth" ]] || fail "credentials stored after a failed login"
	run -0 berth login --authfile "$auth" -u alice --password-stdin "$REGISTRY" <<<"s3cret"
	assert_eq "$output" "Login Succeeded"
	assert_eq "$(stat -c %a "$auth")" 600
	run -0 berth push --authfile "$auth" "$REGISTRY/private/img:1"
	run -0 "$BERTH" --root "$BATS_TEST_TMPDIR/r2" pull --authfile "$auth" "$REGISTRY/private/img:1"
	# a URL names its host: the same credentials entry
	run -0 berth login --authfile "$auth" -u alice -p s3cret "http://$REGISTRY/v2/"
	assert_eq "$(jq -r '.auths | keys | join(" ")' "$auth")" "$REGISTRY"
	run -1 berth login --authfile "$auth" --password-stdin "$REGISTRY" <<<"s3cret"
	assert_contains "$output" "--username"
	run -0 berth logout --authfile "$auth" "$REGISTRY"
	assert_eq "$output" "Removing login credentials for $REGISTRY"
	run -1 "$BERTH" --root "$BATS_TEST_TMPDIR/r3" pull --authfile "$auth" "$REGISTRY/private/img:1"
}

@test "registry: missing images, a dead registry and a corrupted blob fail cleanly" {
	start_registry
	berth image inspect busybox >/dev/null
	local before
	before="$(store_snapshot)"
	run -1 berth pull "$REGISTRY/no/such:image"
	assert_eq "${#lines[@]}" 2 "$output" # the "Pulling from" line, then the error
	assert_contains "${lines[1]}" "pull $REGISTRY/no/such:image"
	assert_contains "${lines[1]}" "404"
	run -1 berth pull "127.0.0.1:1/nothing/listens:here"
	assert_contains "${lines[-1]}" "pull 127.0.0.1:1/nothing/listens:here"
	assert_eq "$(store_snapshot)" "$before"
	# a blob whose bytes the registry changed on disk
	berth tag busybox "$REGISTRY/bad/blob:1"
	berth push -q "$REGISTRY/bad/blob:1"
	local layer data
	layer="$(berth image inspect -f '{{.GraphDriver.Data.LowerDir}}' busybox)"
	data="$(find "$REGISTRY_DIR/data" -path '*/blobs/sha256/*/data' -size +1000k | head -1)"
	[[ -n "$data" ]] || fail "layer blob not found in the registry's storage"
	printf 'X' | dd of="$data" bs=1 seek=5000 conv=notrunc status=none
	local root2="$BATS_TEST_TMPDIR/r2"
	run -1 "$BERTH" --root "$root2" pull "$REGISTRY/bad/blob:1"
	assert_contains "$output" "digest"
	assert_eq "$(ls "$root2/layers" | wc -l)" 0
	assert_eq "$("$BERTH" --root "$root2" images -q | wc -l)" 0
	assert_eq "$(ls "$root2/blobs/sha256" | wc -l)" 0
}

@test "registry: concurrent pulls of one image download each blob once" {
	start_registry
	umoci_image "$BATS_TEST_TMPDIR/u"
	skopeo copy --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/u:v" "docker://$REGISTRY/con/current:v"
	: >"$REGISTRY_DIR/log"
	local root2="$BATS_TEST_TMPDIR/r2" i pids=()
	for i in 1 2 3 4 5; do
		"$BERTH" --root "$root2" pull -q "$REGISTRY/con/current:v" >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a concurrent pull failed"; done
	assert_eq "$("$BERTH" --root "$root2" images -q | wc -l)" 1
	local blob n
	for blob in $(skopeo inspect --tls-verify=false "docker://$REGISTRY/con/current:v" | jq -r '.Layers[]'); do
		n="$(grep -c "\"GET /v2/con/current/blobs/$blob " "$REGISTRY_DIR/log" || true)"
		assert_eq "$n" 1 "layer $blob downloaded $n times"
	done
	assert_eq "$(ls -A "$root2/tmp" | grep -c partial || true)" 0
}

@test "registry: an image pulled by digest only is not dangling for prune" {
	start_registry
	berth image inspect busybox >/dev/null
	berth tag busybox "$REGISTRY/by/digest:1"
	local digest
	digest="$(berth push "$REGISTRY/by/digest:1" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')"
	local root2="$BATS_TEST_TMPDIR/r2"
	"$BERTH" --root "$root2" pull -q "$REGISTRY/by/digest@$digest"
	run -0 "$BERTH" --root "$root2" images --digests
	assert_contains "$output" "$digest"
	run -0 "$BERTH" --root "$root2" image prune -f
	assert_eq "$("$BERTH" --root "$root2" images -q | wc -l)" 1
}

@test "registry: berth run of an image only a registry has pulls it (docker's messages on stderr) and runs it" {
	start_registry
	berth image inspect busybox >/dev/null
	berth tag busybox "$REGISTRY/run/me:1"
	berth push "$REGISTRY/run/me:1" >/dev/null
	berth rmi "$REGISTRY/run/me:1" >/dev/null
	run -0 --separate-stderr berth run --rm "$REGISTRY/run/me:1" sh -c 'echo pulled and running'
	assert_eq "$output" "pulled and running"
	assert_contains "$stderr" "Unable to find image '$REGISTRY/run/me:1' locally"
	assert_contains "$stderr" "Status: Downloaded newer image for $REGISTRY/run/me:1"
	run -0 berth images --format json
	assert_contains "$output" "$REGISTRY/run/me"
	# --pull never: a missing image is an error, not a pull
	berth rmi "$REGISTRY/run/me:1" >/dev/null
	run -125 berth run --rm --pull never "$REGISTRY/run/me:1" true
	assert_contains "$output" "No such image"
}
