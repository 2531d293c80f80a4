#!/usr/bin/env bats
# spec (default config.json, --rootless), features, and the global options
# (--version, --log, --log-format, --debug, --systemd-cgroup).

load helpers

@test "spec: writes a valid default config.json" {
	local dir="$BATS_TEST_TMPDIR/specdir"
	mkdir "$dir"
	cd "$dir"
	run -0 "$RUNTIME" spec
	[[ -f "$dir/config.json" ]] || fail "no config.json written"
	local c="$dir/config.json"
	jq -e . "$c" >/dev/null || fail "not JSON"
	[[ "$(jq -r .ociVersion "$c")" == 1.* ]] || fail "ociVersion $(jq -r .ociVersion "$c")"
	assert_eq "$(jq -r .root.path "$c")" rootfs
	assert_eq "$(jq -r '.process.args | length > 0' "$c")" true
	assert_eq "$(jq -r '.process.cwd' "$c")" /
	assert_eq "$(jq -r '[.mounts[].destination] | index("/proc") != null' "$c")" true
	assert_eq "$(jq -r '[.linux.namespaces[].type] | contains(["pid", "mount", "network", "ipc", "uts"])' "$c")" true
	assert_eq "$(jq -r '.linux.maskedPaths | length > 0' "$c")" true
}

@test "spec --bundle DIR writes there; an existing config.json is not overwritten" {
	local dir="$BATS_TEST_TMPDIR/specdir"
	mkdir "$dir"
	run -0 "$RUNTIME" spec --bundle "$dir"
	[[ -f "$dir/config.json" ]] || fail "no config.json in --bundle dir"
	echo '{"keep": true}' >"$dir/config.json"
	run ! "$RUNTIME" spec --bundle "$dir"
	assert_eq "$(cat "$dir/config.json")" '{"keep": true}'
}

@test "spec: the default config runs a container (terminal turned off)" {
	rm "$BUNDLE/config.json"
	run -0 "$RUNTIME" spec --bundle "$BUNDLE"
	update_config '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-works; id -u"]'
	run -0 run_ctr
	assert_eq "$output" $'spec-works\n0'
}

@test "spec --rootless: a user namespace mapping the caller, no network namespace" {
	local dir="$BATS_TEST_TMPDIR/specdir"
	mkdir "$dir"
	run -0 "$RUNTIME" spec --rootless --bundle "$dir"
	local c="$dir/config.json"
	assert_eq "$(jq -r '[.linux.namespaces[].type] | index("user") != null' "$c")" true
	assert_eq "$(jq -r '[.linux.namespaces[].type] | index("network") == null' "$c")" true
	assert_eq "$(jq -r '.linux.uidMappings[0].hostID' "$c")" "$(id -u)"
	assert_eq "$(jq -r '.linux.gidMappings[0].hostID' "$c")" "$(id -g)"
	assert_eq "$(jq -r '.linux.uidMappings[0].containerID' "$c")" 0
}

@test "spec --rootless: the config runs" {
	rm "$BUNDLE/config.json"
	run -0 "$RUNTIME" spec --rootless --bundle "$BUNDLE"
	update_config '.process.terminal = false | .process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map"]'
	# the mapped root must reach the rootfs
	local d="$BUNDLE"
	while [[ "$d" == "$BATS_RUN_TMPDIR"* ]]; do chmod a+x "$d"; d="$(dirname "$d")"; done
	run -0 run_ctr
	assert_eq "$(sed -n 1p <<<"$output")" 0
	assert_eq "$(sed -n 2p <<<"$output" | awk '{ print $1, $2, $3 }')" "0 0 1"
}

@test "features: JSON as runtime-spec features.md describes" {
	run -0 --separate-stderr "$RUNTIME" features
	local f="$output"
	jq -e . >/dev/null <<<"$f" || fail "not JSON: $f"
	[[ "$(jq -r .ociVersionMin <<<"$f")" == 1.0.* ]] || fail "ociVersionMin: $(jq -r .ociVersionMin <<<"$f")"
	[[ "$(jq -r .ociVersionMax <<<"$f")" == 1.* ]] || fail "ociVersionMax"
	assert_eq "$(jq -c '.hooks | sort' <<<"$f")" '["createContainer","createRuntime","poststart","poststop","prestart","startContainer"]'
	local opt
	for opt in bind rbind ro rw nosuid nodev noexec private rprivate shared rshared slave rslave; do
		assert_eq "$(jq --arg o "$opt" '.mountOptions | index($o) != null' <<<"$f")" true "mount option $opt"
	done
	local ns
	for ns in cgroup ipc mount network pid user uts; do
		assert_eq "$(jq --arg n "$ns" '.linux.namespaces | index($n) != null' <<<"$f")" true "namespace $ns"
	done
	assert_eq "$(jq '.linux.capabilities | index("CAP_SYS_ADMIN") != null' <<<"$f")" true
	assert_eq "$(jq '.linux.cgroup.v1' <<<"$f")" true
	assert_eq "$(jq '.linux.seccomp.enabled' <<<"$f")" true
	assert_eq "$(jq '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY") != null' <<<"$f")" true
	assert_eq "$(jq '.linux.seccomp.operators | index("SCMP_CMP_MASKED_EQ") != null' <<<"$f")" true
	assert_eq "$(jq '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") != null' <<<"$f")" true
}

@test "features: berth lists the time namespace and cgroup v2" {
	berth_only "runc 1.1 has no time namespace"
	run -0 "$RUNTIME" features
	assert_eq "$(jq '.linux.namespaces | index("time") != null' <<<"$output")" true
	assert_eq "$(jq '.linux.cgroup.v2' <<<"$output")" true
}

@test "--version prints the version and the spec version" {
	run -0 "$RUNTIME" --version
	[[ -n "$output" ]] || fail "no output"
	grep -qiE "spec.*1\.[0-9]+\.[0-9]+" <<<"$output" || fail "no spec version: $output"
	if is_berth; then assert_contains "$output" "berth"; fi
}

@test "--log with --log-format json writes errors as JSON lines" {
	local log="$BATS_TEST_TMPDIR/runtime.log"
	run ! "$RUNTIME" --root "$ROOT" --log "$log" --log-format json state "nope-$$"
	[[ -s "$log" ]] || fail "nothing logged"
	local line
	line="$(grep -m1 . "$log")"
	jq -e . >/dev/null <<<"$line" || fail "not JSON: $line"
	assert_eq "$(jq -r .level <<<"$line")" error
	[[ -n "$(jq -r .msg <<<"$line")" ]] || fail "no msg: $line"
	# every line is a JSON object
	while read -r line; do jq -e 'type == "object"' >/dev/null <<<"$line" || fail "bad line: $line"; done <"$log"
}

@test "--log-format json: the error names the container" {
	berth_only "runc's message is 'container does not exist'"
	local log="$BATS_TEST_TMPDIR/runtime.log"
	run ! "$RUNTIME" --root "$ROOT" --log "$log" --log-format json state "nope-$$"
	assert_contains "$(jq -r .msg "$log")" "nope-$$"
}

@test "--debug is accepted" {
	set_args echo debug-run
	run -0 --separate-stderr "$RUNTIME" --debug --root "$ROOT" run --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_eq "$output" debug-run
}

@test "--systemd-cgroup is accepted and falls back to cgroupfs without systemd" {
	berth_only "runc needs a running systemd for --systemd-cgroup"
	[[ ! -d /run/systemd/system ]] || skip "systemd is running here"
	set_args echo systemd-cgroup
	run -0 "$RUNTIME" --systemd-cgroup --root "$ROOT" run --bundle "$BUNDLE" "$CTR_ID" </dev/null
	assert_eq "$output" systemd-cgroup
}
