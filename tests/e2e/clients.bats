#!/usr/bin/env bats
# Real clients drive the runtime: podman (--runtime) and containerd's ctr
# (--runc-binary), each with private roots, state, sockets and configs.

load helpers

setup() {
	e2e_setup
	# An image made from the test rootfs.
	ROOTFS_TAR="$BATS_TEST_TMPDIR/rootfs.tar"
	tar -C "$BUNDLE/rootfs" -cf "$ROOTFS_TAR" .
}

# ---------------------------------------------------------------- podman

podman_setup() {
	command -v podman >/dev/null || skip "podman is not installed (make check installs it)"
	command -v conmon >/dev/null || skip "conmon is not installed"
	P="$BATS_TEST_TMPDIR/podman"
	mkdir -p "$P/root" "$P/runroot" "$P/tmp"
	PODMAN_CGROUP_PARENT="e2e$$-podman-$BATS_TEST_NUMBER"
	cat >"$P/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
		netns = "none"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$P/events.log"
		tmp_dir = "$P/tmp"
		static_dir = "$P/root/libpod"
		volume_path = "$P/root/volumes"
	EOF
	on_teardown 'remove_cgroups $(find_cgroups "'"$PODMAN_CGROUP_PARENT"'")'
	on_teardown pd rm --all --force --time 0
	pd import "$ROOTFS_TAR" localhost/e2e-busybox:latest >/dev/null
}

# pd ARGS...: podman with this test's private everything and our runtime.
pd() {
	CONTAINERS_CONF="$P/containers.conf" timeout --kill-after=5 "$E2E_TIMEOUT" \
		podman --root "$P/root" --runroot "$P/runroot" --storage-driver vfs \
		--runtime "$RUNTIME" "$@"
}

pd_run() { pd run --rm --network none --cgroup-parent "/$PODMAN_CGROUP_PARENT" "$@"; }

@test "podman: run --rm prints the container's output" {
	podman_setup
	run -0 pd_run localhost/e2e-busybox sh -c 'echo hello from podman; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$output" $'hello from podman\nsh -c echo hello from podman; cat /proc/1/cmdline | tr "\\0" " " '
	run -0 pd ps -aq
	assert_eq "$output" ""
}

@test "podman: exit codes propagate" {
	podman_setup
	run -7 pd_run localhost/e2e-busybox sh -c 'exit 7'
}

@test "podman: default_ulimits from containers.conf reach the container" {
	podman_setup
	run -0 pd_run localhost/e2e-busybox helper rlimits
	assert_has_line "$output" "RLIMIT_NOFILE=20000:20000"
	assert_has_line "$output" "RLIMIT_NPROC=32768:32768"
}

@test "podman: user, env, workdir, hostname and read-only options" {
	podman_setup
	run -1 pd_run --user 1000:1000 --env E2E=podman --workdir /tmp --hostname pod-host --read-only \
		localhost/e2e-busybox sh -c 'id -u; id -g; echo $E2E; pwd; hostname; helper syscall mkdir /e2e'
	assert_eq "$output" $'1000\n1000\npodman\n/tmp\npod-host\nEROFS'
}

@test "podman: memory and pids limits are applied" {
	podman_setup
	run -0 pd_run --memory 64m --pids-limit 20 localhost/e2e-busybox sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max'
	assert_eq "$output" $'67108864\n20'
}

@test "podman: run -d, exec, stop and rm" {
	podman_setup
	run -0 pd run -d --network none --cgroup-parent "/$PODMAN_CGROUP_PARENT" --name "e2e$$" localhost/e2e-busybox sleep 1000
	run -0 pd exec "e2e$$" sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$output" "exec-ok"$'\n'"sleep 1000 "
	run -0 pd ps --format '{{.Names}} {{.Status}}'
	assert_contains "$output" "e2e$$ Up"
	run -0 pd stop --time 1 "e2e$$"
	run -0 pd inspect --format '{{.State.Status}}' "e2e$$"
	assert_eq "$output" exited
	run -0 pd rm "e2e$$"
}

@test "podman: run with a terminal (-t)" {
	podman_setup
	run -0 pd_run -t localhost/e2e-busybox helper tty
	assert_contains "$output" "stdout=/dev/pts/0"
}

# ------------------------------------------------------------- containerd

containerd_setup() {
	command -v containerd >/dev/null || skip "containerd is not installed (make check installs it)"
	command -v ctr >/dev/null || skip "ctr is not installed"
	command -v containerd-shim-runc-v2 >/dev/null || skip "containerd-shim-runc-v2 is not installed"
	C="$BATS_TEST_TMPDIR/ctd"
	CTR_NS="e2e$$-$BATS_TEST_NUMBER"
	mkdir -p "$C/root" "$C/state"
	cat >"$C/config.toml" <<-EOF
		version = 2
		root = "$C/root"
		state = "$C/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
			"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
			"io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
			"io.containerd.tracing.processor.v1.otlp"]
		[grpc]
		  address = "$C/containerd.sock"
		[ttrpc]
		  address = "$C/containerd.sock.ttrpc"
		[debug]
		  address = "$C/debug.sock"
		[metrics]
		  address = ""
	EOF
	containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	on_teardown 'remove_cgroups $(find_cgroups "'"$CTR_NS"'")'
	on_teardown 'wait '"$CONTAINERD_PID"
	on_teardown kill "$CONTAINERD_PID"
	on_teardown ctd_cleanup
	retry 200 0.05 ctd version >/dev/null 2>&1 || fail "containerd did not start: $(tail -5 "$C/containerd.log")"
	oci_archive >"$C/image.tar"
	run -0 ctd images import --all-platforms "$C/image.tar"
	ctd images list -q | grep -qx "docker.io/library/e2e-busybox:latest" || fail "image not imported: $(ctd images list -q)"
}

# Kills and deletes whatever tasks and containers a test left.
ctd_cleanup() {
	local t
	for t in $(ctd tasks list -q 2>/dev/null); do
		ctd tasks kill --signal SIGKILL "$t" || true
		retry 50 0.1 ctd tasks delete "$t" || true
	done
	for t in $(ctd containers list -q 2>/dev/null); do ctd containers delete "$t" || true; done
}

ctd() { timeout --kill-after=5 "$E2E_TIMEOUT" ctr --address "$C/containerd.sock" --namespace "$CTR_NS" "$@"; }

# An OCI image layout tar of the test rootfs, written by hand.
oci_archive() {
	local d="$BATS_TEST_TMPDIR/oci"
	mkdir -p "$d/blobs/sha256"
	gzip -n -c "$ROOTFS_TAR" >"$d/layer.tar.gz"
	local diff_id layer layer_size cfg cfg_digest cfg_size man man_digest man_size
	diff_id="$(sha256sum <"$ROOTFS_TAR" | cut -d' ' -f1)"
	layer="$(sha256sum <"$d/layer.tar.gz" | cut -d' ' -f1)"
	layer_size="$(stat -c %s "$d/layer.tar.gz")"
	mv "$d/layer.tar.gz" "$d/blobs/sha256/$layer"
	cfg="$(jq -nc --arg diff "sha256:$diff_id" '{architecture: "amd64", os: "linux",
		config: {Env: ["PATH=/bin:/sbin:/usr/bin"], Cmd: ["sh"], WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]}}')"
	cfg_digest="$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)"
	cfg_size="$(printf '%s' "$cfg" | wc -c)"
	printf '%s' "$cfg" >"$d/blobs/sha256/$cfg_digest"
	man="$(jq -nc --arg c "sha256:$cfg_digest" --argjson cs "$cfg_size" --arg l "sha256:$layer" --argjson ls "$layer_size" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}')"
	man_digest="$(printf '%s' "$man" | sha256sum | cut -d' ' -f1)"
	man_size="$(printf '%s' "$man" | wc -c)"
	printf '%s' "$man" >"$d/blobs/sha256/$man_digest"
	jq -nc --arg m "sha256:$man_digest" --argjson ms "$man_size" '{schemaVersion: 2, manifests: [{
		mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": "docker.io/library/e2e-busybox:latest",
			"org.opencontainers.image.ref.name": "latest"}}]}' >"$d/index.json"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$d/oci-layout"
	tar -C "$d" -cf - oci-layout index.json blobs
}

ctd_run() { ctd run --runc-binary "$RUNTIME" --rm "$@"; }

@test "containerd: ctr run --rm with the runtime prints the output" {
	containerd_setup
	run -0 ctd_run docker.io/library/e2e-busybox:latest "c$$" sh -c 'echo hello from containerd; id -u'
	assert_eq "$output" $'hello from containerd\n0'
	run -0 ctd containers list -q
	assert_eq "$output" ""
}

@test "containerd: exit codes propagate through ctr run" {
	containerd_setup
	run -5 ctd_run docker.io/library/e2e-busybox:latest "c$$" sh -c 'exit 5'
}

@test "containerd: the container is in its own namespaces with the image's environment" {
	containerd_setup
	run -0 ctd_run docker.io/library/e2e-busybox:latest "c$$" sh -c 'echo $PATH; readlink /proc/self/ns/pid; echo $$'
	assert_eq "$(sed -n 1p <<<"$output")" "/bin:/sbin:/usr/bin"
	[[ "$(sed -n 2p <<<"$output")" != "$(readlink /proc/self/ns/pid)" ]] || fail "host pid namespace"
	assert_eq "$(sed -n 3p <<<"$output")" 1
}

@test "containerd: ctr run -d, task exec, kill and delete" {
	containerd_setup
	run -0 ctd run --runc-binary "$RUNTIME" -d docker.io/library/e2e-busybox:latest "c$$" sleep 1000
	run -0 ctd tasks exec --exec-id e2eexec "c$$" sh -c 'echo exec-in-task; cat /proc/1/cmdline | tr "\0" " "'
	assert_eq "$output" "exec-in-task"$'\n'"sleep 1000 "
	run -0 ctd tasks list
	assert_contains "$output" RUNNING
	run -0 ctd tasks kill --signal SIGKILL "c$$"
	retry 100 0.1 eval 'ctd tasks list | grep -q STOPPED' || fail "task not stopped: $(ctd tasks list)"
	run -0 ctd tasks delete "c$$"
	run -0 ctd containers delete "c$$"
}

@test "containerd: memory limit through ctr run --memory-limit" {
	containerd_setup
	run -0 ctd run --runc-binary "$RUNTIME" -d --memory-limit 67108864 docker.io/library/e2e-busybox:latest "c$$" sleep 1000
	local pid
	pid="$(ctd tasks list | awk -v id="c$$" '$1 == id { print $2 }')"
	[[ "$pid" =~ ^[0-9]+$ ]] || fail "no task pid: $(ctd tasks list)"
	assert_eq "$(cat "$(cgroup_dir "$pid" memory)/memory.limit_in_bytes")" 67108864
}
