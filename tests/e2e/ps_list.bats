#!/usr/bin/env bats
# ps (table and --format json) and list (table, --format json, --quiet).

load helpers

@test "ps --format json lists the pids of every container process" {
	set_args sleep 1000
	start_ctr
	runtime exec --detach --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$CTR_ID" sleep 999 </dev/null >/dev/null 2>&1
	local init ex
	init="$(ctr_pid)"
	ex="$(cat "$BATS_TEST_TMPDIR/exec.pid")"
	CTR_PIDS+=("$ex")
	run -0 runtime ps --format json "$CTR_ID"
	jq -e 'type == "array"' <<<"$output" >/dev/null || fail "not a JSON array: $output"
	assert_eq "$(jq -c 'sort' <<<"$output")" "$(jq -nc '[$a, $b] | sort' --argjson a "$init" --argjson b "$ex")"
}

@test "ps: the table shows the container's processes" {
	set_args sleep 1000
	start_ctr
	run -0 runtime ps "$CTR_ID"
	assert_contains "$(head -1 <<<"$output")" "PID"
	grep -E "(^| )$(ctr_pid)( |$)" <<<"$output" | grep -q "sleep 1000" || fail "init missing: $output"
}

@test "ps of an unknown container fails" {
	run ! runtime ps "nope-$$"
}

@test "list: an empty root lists nothing" {
	run -0 runtime list -q
	assert_eq "$output" ""
	run -0 runtime list --format json
	[[ "$output" == "" || "$output" == "null" || "$output" == "[]" ]] || fail "expected an empty list: $output"
}

@test "list --quiet prints the ids, one per line" {
	set_args sleep 1000
	local id2
	id2="$(new_id two)"
	start_ctr
	create_ctr "$id2"
	run -0 runtime list -q
	assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$CTR_ID" "$id2" | sort)"
	run -0 runtime list --quiet
	assert_eq "$(wc -l <<<"$output")" 2
}

@test "list --format json has id, pid, status and bundle for each container" {
	set_args sleep 1000
	local id2
	id2="$(new_id two)"
	start_ctr
	create_ctr "$id2"
	run -0 runtime list --format json
	local one two
	one="$(jq -c --arg id "$CTR_ID" '.[] | select(.id == $id)' <<<"$output")"
	two="$(jq -c --arg id "$id2" '.[] | select(.id == $id)' <<<"$output")"
	assert_eq "$(jq -r .status <<<"$one")" running
	assert_eq "$(jq -r .status <<<"$two")" created
	assert_eq "$(jq -r .pid <<<"$one")" "$(ctr_pid)"
	assert_eq "$(jq -r .pid <<<"$two")" "$(ctr_pid "$id2")"
	assert_eq "$(jq -r .bundle <<<"$one")" "$BUNDLE"
	[[ "$(jq -r .created <<<"$one")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] || fail "created is not RFC 3339: $one"
}

@test "list: the table has a header and a row per container" {
	set_args sleep 1000
	start_ctr
	run -0 runtime list
	local header row
	header="$(head -1 <<<"$output")"
	for col in ID PID STATUS BUNDLE CREATED; do assert_contains "$header" "$col"; done
	row="$(grep "^$CTR_ID " <<<"$output")"
	assert_eq "$(awk '{ print $2, $3, $4 }' <<<"$row")" "$(ctr_pid) running $BUNDLE"
}

@test "list: a stopped container shows as stopped" {
	start_ctr
	wait_for_status "$CTR_ID" stopped
	run -0 runtime list --format json
	assert_eq "$(jq -r --arg id "$CTR_ID" '.[] | select(.id == $id) | .status' <<<"$output")" stopped
}
