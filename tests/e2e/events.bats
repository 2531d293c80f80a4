#!/usr/bin/env bats
# berth events: what the engine records (containers, images, volumes) in
# docker's format, the --since/--until window, the filters, the live
# follow, and concurrent writers that never tear a line.

load berth_helpers

now() { date +%s.%N; }

# All events so far, one JSON object per line.
all_events() { berth events --since 0 --until "$(now)" --format json "$@"; }

# "Type Action name" of each event so far (filters may be given).
actions() { all_events "$@" | jq -r '"\(.Type) \(.Action) \(.Actor.Attributes.name)"'; }

@test "events: a run --rm records create, attach, start, die (exit code) and destroy, in order, as docker" {
	run -3 berth run --rm --name one --label tier=db busybox sh -c 'exit 3'
	run -0 all_events
	local json="$output"
	assert_eq "$(jq -r .Action <<<"$json" | paste -sd' ')" "create attach start die destroy"
	local id
	id="$(jq -r .Actor.ID <<<"$json" | sort -u)"
	[[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "one container expected: $id"
	# every event: docker's fields and the container's attributes
	run -0 jq -c --arg id "$id" 'select(.Type == "container" and .scope == "local" and .id == $id and
		.status == .Action and .from == "busybox" and .Actor.ID == $id and
		.Actor.Attributes.name == "one" and .Actor.Attributes.image == "busybox" and
		.Actor.Attributes.tier == "db" and .time == (.timeNano / 1e9 | floor))' <<<"$json"
	assert_eq "$(wc -l <<<"$output")" "$(jq -c . <<<"$json" | wc -l)"
	run -0 jq -r 'select(.Action == "die") | .Actor.Attributes | "\(.exitCode) \(.execDuration)"' <<<"$json"
	assert_eq "$output" "3 0"
	# times never go back
	run -0 jq -s '[.[].timeNano] | . == sort' <<<"$json"
	assert_eq "$output" true
	# a detached run is not attached
	run -0 berth run -d --name two busybox true
	berth wait two
	assert_eq "$(actions --filter container=two | paste -sd,)" \
		"container create two,container start two,container die two"
}

@test "events: a failed start dies with docker's code; a restart policy's restarts" {
	run -127 berth run --rm --name nosuch busybox /no/such/program
	run -0 all_events --filter container=nosuch
	run -0 jq -r '.Action + (if .Action == "die" then " " + .Actor.Attributes.exitCode else "" end)' <<<"$output"
	assert_eq "$(paste -sd, <<<"$output")" "create,attach,die 127,destroy"
	run -0 berth run -d --name again --restart on-failure:2 busybox sh -c 'exit 1'
	local i
	for ((i = 0; i < 100; i++)); do
		[[ "$(all_events --filter container=again --filter event=die | wc -l)" == 3 ]] && break
		sleep 0.1
	done
	run -0 all_events --filter container=again
	run -0 jq -r '.Action' <<<"$output"
	assert_eq "$(paste -sd, <<<"$output")" "create,start,die,start,die,start,die"
}

@test "events: docker's default line and Go templates" {
	run -0 berth run --rm --name fmt --label b=2 --label a=1 busybox true
	run -0 berth events --since 0 --until "$(now)"
	local line
	line="$(sed -n 1p <<<"$output")"
	# RFC 3339 with nine digits, type, action, ID, attributes sorted by key
	[[ "$line" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2})\ container\ create\ [0-9a-f]{64}\ \(a=1,\ b=2,\ image=busybox,\ name=fmt\)$ ]] ||
		fail "not docker's line: $line"
	# the local zone, as docker prints it
	run -0 env TZ=Asia/Kolkata "$BERTH" --root "$BROOT" events --since 0 --until "$(now)"
	[[ "$(sed -n 1p <<<"$output")" == *"+05:30 container create "* ]] || fail "zone: $output"
	run -0 berth events --since 0 --until "$(now)" --filter event=die \
		--format '{{.Type}}/{{.Action}}/{{.Status}}/{{.Actor.Attributes.name}}/{{.Actor.Attributes.exitCode}}/{{.Scope}}'
	assert_eq "$output" "container/die/die/fmt/0/local"
	run -0 berth events --since 0 --until "$(now)" --filter event=die --format '{{json .Actor.Attributes}}'
	assert_eq "$(jq -r .name <<<"$output")" fmt
	# {{json .}} is the json format
	assert_eq "$(berth events --since 0 --until "$(now)" --format '{{json .}}')" "$(all_events)"
	# system events is the same command
	assert_eq "$(berth system events --since 0 --until "$(now)" --format json)" "$(all_events)"
}

@test "events: --since and --until select a window (timestamps, RFC 3339, durations)" {
	run -0 berth run --rm --name early busybox true
	sleep 0.05
	local t1 t1_rfc
	t1="$(now)"
	t1_rfc="$(date -u -d "@$t1" +%Y-%m-%dT%H:%M:%S.%NZ)"
	sleep 0.05
	run -0 berth run --rm --name late busybox true
	local t2
	t2="$(now)"
	run -0 berth events --since "$t1" --until "$t2" --format '{{.Actor.Attributes.name}}'
	assert_eq "$(sort -u <<<"$output")" late
	assert_eq "$(wc -l <<<"$output")" 5
	run -0 berth events --since "$t1_rfc" --until "$t2" --format '{{.Actor.Attributes.name}}'
	assert_eq "$(sort -u <<<"$output")" late
	run -0 berth events --since 0 --until "$t1" --format '{{.Actor.Attributes.name}}'
	assert_eq "$(sort -u <<<"$output")" early
	# durations count back from now
	run -0 berth events --since 1h --until "$t2" --format '{{.Actor.Attributes.name}}'
	assert_eq "$(sort -u <<<"$output" | paste -sd,)" early,late
	run -0 berth events --until 1h
	assert_eq "$output" ""
	# an --until still ahead: the past events, then the new ones until then
	local ahead
	ahead=$(($(date +%s) + 2))
	run -0 timeout 10 "$BERTH" --root "$BROOT" events --since "$t1" --until "$ahead" --format '{{.Action}}'
	assert_eq "$(wc -l <<<"$output")" 5
	(($(date +%s) >= ahead)) || fail "returned before --until"
}

@test "events: filters (same key: any value; different keys: all; labels: all)" {
	run -0 berth run --rm --name web --label app=shop --label tier=front busybox true
	run -0 berth run --rm --name db --label app=shop busybox true
	berth tag busybox mine:1
	assert_eq "$(actions --filter container=web --filter event=start)" "container start web"
	assert_eq "$(actions --filter container=web --filter container=db --filter event=die | paste -sd,)" \
		"container die web,container die db"
	assert_eq "$(actions --filter action=destroy | paste -sd,)" "container destroy web,container destroy db"
	assert_eq "$(actions --filter label=app=shop --filter label=tier=front --filter event=create)" \
		"container create web"
	assert_eq "$(actions --filter label=app --filter event=create | paste -sd,)" \
		"container create web,container create db"
	# a container's ID prefix; an image's events and its containers'
	local id
	id="$(all_events --filter container=db --filter event=create | jq -r .Actor.ID)"
	assert_eq "$(actions --filter "container=${id:0:10}" --filter event=die)" "container die db"
	assert_eq "$(actions --filter type=image)" "image tag mine:1"
	assert_eq "$(actions --filter image=mine)" "image tag mine:1"
	assert_eq "$(actions --filter image=busybox --filter event=create | paste -sd,)" \
		"container create web,container create db"
	assert_eq "$(actions --filter type=volume)" ""
}

@test "events: follows new events live, across processes, until interrupted" {
	local out="$BATS_TEST_TMPDIR/follow.out" errf="$BATS_TEST_TMPDIR/follow.err"
	"$BERTH" --root "$BROOT" events --format json >"$out" 2>"$errf" &
	local follower=$!
	on_teardown "kill $follower 2>/dev/null"
	# it shows only what happens after it started: wait until it sees a marker
	local i
	for ((i = 0; i < 100; i++)); do
		berth tag busybox "marker:$i"
		grep -q '"Action":"tag"' "$out" && break
		sleep 0.1
	done
	grep -q '"Action":"tag"' "$out" || fail "the follower saw nothing"
	run -0 berth run --rm --name live busybox true
	wait_for_line "$out" '"Action":"destroy"'
	run -0 jq -r 'select(.Type == "container") | .Action' "$out"
	assert_eq "$(paste -sd' ' <<<"$output")" "create attach start die destroy"
	kill -INT "$follower"
	local rc=0
	wait "$follower" || rc=$?
	assert_eq "$rc" 0 "exit status after SIGINT"
	assert_eq "$(cat "$errf")" ""
	# SIGTERM ends it quietly too; --since replays the past first
	"$BERTH" --root "$BROOT" events --since 0 --filter container=live --format '{{.Action}}' >"$out" 2>"$errf" &
	follower=$!
	wait_for_line "$out" '^destroy$'
	kill -TERM "$follower"
	rc=0
	wait "$follower" || rc=$?
	assert_eq "$rc" 0 "exit status after SIGTERM"
	assert_eq "$(paste -sd' ' "$out")" "create attach start die destroy"
	assert_eq "$(cat "$errf")" ""
}

@test "events: stop, kill, pause, unpause, and volume events" {
	run -0 berth run -d --name busy busybox sleep 100
	berth pause busy
	berth unpause busy
	berth stop -t 0 busy
	run -0 berth start busy
	berth kill busy
	berth wait busy
	berth rm busy
	run -0 all_events --filter container=busy
	run -0 jq -r '.Action + (if .Actor.Attributes.signal then " " + .Actor.Attributes.signal else "" end) +
		(if .Actor.Attributes.exitCode then " " + .Actor.Attributes.exitCode else "" end)' <<<"$output"
	assert_eq "$(paste -sd, <<<"$output")" \
		"create,start,pause,unpause,kill 9,die 137,stop,start,kill 9,die 137,destroy"
	berth volume create vol1 >/dev/null
	run -0 berth run --rm -v vol1:/data -v /anon busybox true
	berth volume rm vol1
	run -0 all_events --filter type=volume
	run -0 jq -r '"\(.Action) \(.Actor.ID) \(.Actor.Attributes.driver)"' <<<"$output"
	assert_eq "$(sed -n 1p <<<"$output")" "create vol1 local"
	assert_eq "$(sed -n '$p' <<<"$output")" "destroy vol1 local"
	# the anonymous volume came and went with its --rm container
	[[ "$(sed -n 2p <<<"$output")" =~ ^create\ [0-9a-f]{64}\ local$ ]] || fail "anonymous volume: $output"
	[[ "$(sed -n 3p <<<"$output")" =~ ^destroy\ [0-9a-f]{64}\ local$ ]] || fail "anonymous volume: $output"
	assert_eq "$(all_events --filter volume=vol1 | jq -r '"\(.Action) \(.Actor.ID)"' | paste -sd,)" \
		"create vol1,destroy vol1"
}

@test "events: concurrent writers leave whole lines only, none lost" {
	local i pids=()
	for ((i = 0; i < 10; i++)); do
		berth run --rm --name "par$i" busybox true &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run -0 all_events
	local json="$output"
	# every line is one JSON object
	assert_eq "$(wc -l <<<"$json")" 50
	jq -e . <<<"$json" >/dev/null || fail "a torn line: $json"
	# each container has its five, in order
	for ((i = 0; i < 10; i++)); do
		assert_eq "$(jq -r --arg n "par$i" 'select(.Actor.Attributes.name == $n) | .Action' <<<"$json" | paste -sd' ')" \
			"create attach start die destroy"
	done
	# one file of whole lines, owner-only
	assert_eq "$(stat -c %a "$BROOT/events/events.log")" 600
	assert_eq "$(tail -c1 "$BROOT/events/events.log" | od -An -c | tr -d ' ')" '\n'
}

@test "events: image events for tag, rmi, import, save and load" {
	local img
	img="$(berth image inspect -f '{{.Id}}' busybox)"
	berth tag busybox first:1
	berth tag busybox second:2
	berth rmi first:1
	berth rmi second:2 >/dev/null
	run -0 all_events --filter type=image
	run -0 jq -r '"\(.Action) \(.Actor.ID) \(.Actor.Attributes.name) \(.status) \(.id)"' <<<"$output"
	assert_eq "$output" "tag $img first:1 tag $img
tag $img second:2 tag $img
untag $img first:1 untag $img
untag $img second:2 untag $img"
	# import, save, load, and the last tag's removal deletes the image
	mkdir -p "$BATS_TEST_TMPDIR/fs"
	echo hi >"$BATS_TEST_TMPDIR/fs/hello"
	tar -C "$BATS_TEST_TMPDIR/fs" -cf "$BATS_TEST_TMPDIR/fs.tar" .
	local imp
	imp="$(berth import "$BATS_TEST_TMPDIR/fs.tar" imp:1)"
	berth save -o "$BATS_TEST_TMPDIR/imp.tar" imp:1
	berth load -q -i "$BATS_TEST_TMPDIR/imp.tar"
	berth rmi imp:1 >/dev/null
	run -0 all_events --filter type=image --filter "image=$imp"
	run -0 jq -r '"\(.Action) \(.Actor.ID) \(.Actor.Attributes.name)"' <<<"$output"
	assert_eq "$output" "import $imp $imp
save $imp $imp
load $imp $imp
untag $imp imp:1
delete $imp $imp"
}

@test "events: bad input is refused with one line, and nothing is printed" {
	run -1 --separate-stderr berth events --since yesterday
	assert_one_line_error "$stderr" yesterday
	assert_eq "$output" ""
	run -1 --separate-stderr berth events --until 2024-13-45
	assert_one_line_error "$stderr" 2024-13-45
	run -1 --separate-stderr berth events --since 10m --until 1h
	assert_one_line_error "$stderr" "cannot be after"
	run -125 --separate-stderr berth events --filter nonsense
	assert_contains "$stderr" "bad format of filter (expected name=value)"
	run -1 --separate-stderr berth events --filter colour=red
	assert_one_line_error "$stderr" "invalid filter 'colour'"
	run -1 --separate-stderr berth events --filter type=containers
	assert_one_line_error "$stderr" "type=containers"
	run -1 --separate-stderr berth events --format '{{.Type'
	assert_one_line_error "$stderr" "template"
	run -125 --separate-stderr berth events extra
	assert_contains "$stderr" "accepts no arguments"
	run -125 --separate-stderr berth events --bogus
	assert_contains "$stderr" "unknown flag: --bogus"
	run -0 berth events --help
	assert_contains "$output" "Usage:  berth events [OPTIONS]"
}
