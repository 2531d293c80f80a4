#!/usr/bin/env bats
# berth volume: create, ls, inspect, rm and prune as docker prints them, the
# directories under <root>/volumes, bad input (which changes nothing) and
# concurrent creators.  Volumes used by containers (-v name:/x) are tested
# with the containers.

load berth_helpers

# The volumes the database records, one name a line, sorted.
volume_rows() {
	[[ -f "$BROOT/berth.db" ]] || return 0
	python3 - "$BROOT/berth.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    for (name,) in db.execute("SELECT name FROM volumes ORDER BY name"):
        print(name)
except sqlite3.OperationalError:
    pass
PY
}

# What the volumes directory holds (volume directories only).
volume_dirs() { ls "$BROOT/volumes" 2>/dev/null | LC_ALL=C sort; }

@test "volume create: a name, or a random one; the directory is docker's layout" {
	run -0 berth volume create data
	assert_eq "$output" "data"
	[[ -d "$BROOT/volumes/data/_data" ]] || fail "no $BROOT/volumes/data/_data"
	assert_eq "$(stat -c %a "$BROOT/volumes/data/_data")" 755
	# creating it again is fine and changes nothing
	touch "$BROOT/volumes/data/_data/kept"
	run -0 berth volume create data
	assert_eq "$output" "data"
	[[ -e "$BROOT/volumes/data/_data/kept" ]] || fail "existing volume was reset"
	run -0 berth volume create
	[[ "$output" =~ ^[0-9a-f]{64}$ ]] || fail "not a 64-hex name: $output"
	local anon="$output"
	[[ -d "$BROOT/volumes/$anon/_data" ]] || fail "no directory for $anon"
	run -0 berth volume inspect -f '{{json .Labels}}' "$anon"
	assert_eq "$output" '{"com.docker.volume.anonymous":""}'
	local both
	both="$(printf "%s\n" "$anon" data | LC_ALL=C sort)"
	assert_eq "$(volume_rows)" "$both"
	assert_eq "$(volume_dirs)" "$both"
}

@test "volume ls: docker's table, -q, --format json and templates, natural order" {
	run -0 berth volume ls
	assert_eq "$output" "DRIVER    VOLUME NAME"
	local v
	for v in vol10 vol2 vol1 Alpha; do berth volume create "$v" >/dev/null; done
	run -0 berth volume ls
	assert_eq "$output" "DRIVER    VOLUME NAME
local     Alpha
local     vol1
local     vol2
local     vol10"
	run -0 berth volume ls -q
	assert_eq "$(tr '\n' ' ' <<<"$output")" "Alpha vol1 vol2 vol10 "
	run -0 berth volume list --quiet
	assert_eq "${#lines[@]}" 4
	run -0 berth volume ls --format json
	assert_eq "${#lines[@]}" 4
	assert_eq "$(jq -r 'select(.Name == "vol2") | [.Driver, .Scope, .Mountpoint, .Labels, .Size] | join(" ")' <<<"$output")" \
		"local local $BROOT/volumes/vol2/_data  N/A"
	run -0 berth volume ls --format '{{.Name}}:{{.Driver}}'
	assert_eq "$(tr '\n' ' ' <<<"$output")" "Alpha:local vol1:local vol2:local vol10:local "
	run -0 berth volume ls --format 'table {{.Name}}\t{{.Mountpoint}}'
	assert_eq "${lines[0]}" "VOLUME NAME   MOUNTPOINT"
	assert_eq "${lines[1]}" "Alpha         $BROOT/volumes/Alpha/_data"
	run -0 berth volume ls --format table -q
	assert_eq "${lines[0]}" "Alpha"
}

@test "volume ls: filters by name, label, driver and dangling" {
	berth volume create --label team=blue --label tier blue1 >/dev/null
	berth volume create --label team=red red1 >/dev/null
	berth volume create other >/dev/null
	run -0 berth volume ls -q --filter label=team
	assert_eq "$(tr '\n' ' ' <<<"$output")" "blue1 red1 "
	run -0 berth volume ls -q --filter label=team=blue
	assert_eq "$output" "blue1"
	run -0 berth volume ls -q --filter label=team=blue --filter label=tier
	assert_eq "$output" "blue1"
	run -0 berth volume ls -q --filter label=team=red --filter label=tier
	assert_eq "$output" ""
	run -0 berth volume ls -q -f name=1
	assert_eq "$(tr '\n' ' ' <<<"$output")" "blue1 red1 "
	run -0 berth volume ls -q -f name=^oth -f name=red
	assert_eq "$(tr '\n' ' ' <<<"$output")" "other red1 "
	run -0 berth volume ls -q -f driver=local
	assert_eq "${#lines[@]}" 3
	run -0 berth volume ls -q -f driver=nfs
	assert_eq "$output" ""
	# no container uses any of them
	run -0 berth volume ls -q -f dangling=true
	assert_eq "${#lines[@]}" 3
	run -0 berth volume ls -q -f dangling=false
	assert_eq "$output" ""
	run -1 berth volume ls -f dangling=maybe
	assert_eq "$output" "berth: invalid filter 'dangling=maybe'"
	run -1 berth volume ls -f color=red
	assert_eq "$output" "berth: invalid filter 'color'"
	run -125 berth volume ls -f nonsense
	assert_contains "$output" 'bad format of filter (expected name=value)'
}

@test "volume inspect: docker's JSON, -f templates, json, and missing volumes" {
	berth volume create --label b=2 --label a=1 -o type=tmpfs -o device=tmpfs -o o=size=1m data >/dev/null
	run -0 berth volume inspect data
	jq -e 'length == 1' <<<"$output" >/dev/null || fail "not one element: $output"
	assert_eq "$(jq -r '.[0] | [.Name, .Driver, .Scope, .Mountpoint] | join(" ")' <<<"$output")" \
		"data local local $BROOT/volumes/data/_data"
	assert_eq "$(jq -c '.[0].Labels' <<<"$output")" '{"a":"1","b":"2"}'
	assert_eq "$(jq -c '.[0].Options' <<<"$output")" '{"device":"tmpfs","o":"size=1m","type":"tmpfs"}'
	# docker's key order and 4-space indentation
	assert_eq "$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$output")" "CreatedAt,Driver,Labels,Mountpoint,Name,Options,Scope"
	assert_eq "${lines[1]}" "    {"
	[[ "${lines[2]}" == '        "CreatedAt": "'* ]] || fail "not indented as docker: ${lines[2]}"
	local created
	created="$(jq -r '.[0].CreatedAt' <<<"$output")"
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$ ]] ||
		fail "CreatedAt is not RFC 3339: $created"
	# close to now
	local age=$(($(date +%s) - $(date -d "$created" +%s)))
	((age >= 0 && age < 60)) || fail "CreatedAt $created is $age s away"
	berth volume create plain >/dev/null
	run -0 berth volume inspect --format json plain
	assert_eq "${#lines[@]}" 1
	assert_eq "$(jq -c '.[0] | [.Labels, .Options]' <<<"$output")" '[{},{}]'
	run -0 berth volume inspect -f '{{.Name}} {{.Driver}} {{.Mountpoint}}' data plain
	assert_eq "${lines[0]}" "data local $BROOT/volumes/data/_data"
	assert_eq "${lines[1]}" "plain local $BROOT/volumes/plain/_data"
	# a missing one: the others are printed, then the error, status 1
	run -1 --separate-stderr berth volume inspect -f '{{.Name}}' data nosuch plain
	assert_eq "$output" "data
plain"
	assert_eq "$stderr" "berth: get nosuch: no such volume"
	run -1 --separate-stderr berth volume inspect nosuch
	assert_eq "$output" "[]"
	assert_one_line_error "$stderr" "get nosuch: no such volume"
	run -1 berth volume inspect
	assert_contains "$output" "requires at least 1 argument"
}

@test "volume rm: prints each name removed; errors name the volume; -f ignores missing ones" {
	berth volume create one >/dev/null
	berth volume create two >/dev/null
	echo data >"$BROOT/volumes/one/_data/file"
	run -1 --separate-stderr berth volume rm one nosuch two
	assert_eq "$output" "one
two"
	assert_eq "$stderr" "berth: get nosuch: no such volume"
	[[ ! -e "$BROOT/volumes/one" && ! -e "$BROOT/volumes/two" ]] || fail "volume directories left: $(volume_dirs)"
	assert_eq "$(volume_rows)" ""
	run -0 berth volume rm -f nosuch
	assert_eq "$output" "nosuch"
	berth volume create three >/dev/null
	run -0 berth volume remove --force three
	assert_eq "$output" "three"
	run -1 berth volume rm
	assert_contains "$output" "'berth volume rm' requires at least 1 argument"
}

@test "volume prune: anonymous unused volumes, -a for all, label filters, docker's report" {
	local anon1 anon2
	anon1="$(berth volume create)"
	anon2="$(berth volume create)"
	berth volume create named >/dev/null
	berth volume create --label keep=yes kept >/dev/null
	# 1000 bytes, a hard link to them (counted once) and 50 more
	head -c 1000 /dev/zero >"$BROOT/volumes/$anon1/_data/a"
	ln "$BROOT/volumes/$anon1/_data/a" "$BROOT/volumes/$anon1/_data/b"
	mkdir "$BROOT/volumes/$anon2/_data/d"
	head -c 50 /dev/zero >"$BROOT/volumes/$anon2/_data/d/c"
	run -0 berth volume prune -f
	assert_has_line "$output" "Deleted Volumes:"
	assert_has_line "$output" "$anon1"
	assert_has_line "$output" "$anon2"
	assert_eq "${lines[-1]}" "Total reclaimed space: 1.05kB"
	assert_eq "$(volume_rows | tr '\n' ' ')" "kept named "
	assert_eq "$(volume_dirs | tr '\n' ' ')" "kept named "
	# nothing left to prune without -a
	run -0 berth volume prune --force
	assert_eq "$output" "Total reclaimed space: 0B"
	# label filters select among all unused ones
	run -0 berth volume prune -a -f --filter 'label!=keep'
	assert_eq "$output" "Deleted Volumes:
named

Total reclaimed space: 0B"
	run -0 berth volume prune -a -f --filter label=keep=no
	assert_eq "$output" "Total reclaimed space: 0B"
	run -0 berth volume prune -f --filter all=true --filter label=keep
	assert_has_line "$output" "kept"
	assert_eq "$(volume_rows)" ""
	run -1 berth volume prune -a -f --filter all=1
	assert_contains "$output" "conflicting options"
	run -1 berth volume prune -f --filter dangling=true
	assert_eq "$output" "berth: invalid filter 'dangling'"
	run -1 berth volume prune extra
	assert_contains "$output" "accepts no arguments"
}

@test "volume prune: asks first, like docker; anything but y keeps the volumes" {
	local anon
	anon="$(berth volume create)"
	run -0 berth volume prune <<<"n"
	assert_eq "$output" "WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue? [y/N] "
	run -0 berth volume prune </dev/null
	assert_eq "$(volume_rows)" "$anon"
	run -0 berth volume prune -a <<<"yes"
	assert_contains "$output" "WARNING! This will remove all local volumes not used by at least one container."
	assert_eq "$(volume_rows)" "$anon"
	run -0 berth volume prune <<<" Y "
	assert_has_line "$output" "$anon"
	assert_eq "$(volume_rows)" ""
}

@test "volume: bad names, options, drivers and flags are refused and change nothing" {
	berth volume create existing >/dev/null
	local before bad
	before="$(volume_rows; volume_dirs)"
	for bad in "a" "-x" ".hidden" "_x" "with space" "a/b" "../up" "x:y" "semi;colon" "ünï"; do
		run -1 --separate-stderr berth volume create -- "$bad"
		assert_one_line_error "$stderr" "create $bad:"
	done
	run -1 --separate-stderr berth volume create "bad name"
	assert_eq "$stderr" "berth: create bad name: \"bad name\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
	run -1 --separate-stderr berth volume create a
	assert_eq "$stderr" "berth: create a: volume name is too short, names should be at least two alphanumeric characters"
	run -1 --separate-stderr berth volume create "$(printf 'x%.0s' {1..300})"
	assert_one_line_error "$stderr" "create xxx"
	run -1 --separate-stderr berth volume create -o foo=bar opt1
	assert_eq "$stderr" 'berth: create opt1: invalid option: "foo"'
	run -1 --separate-stderr berth volume create -o type=tmpfs opt1
	assert_eq "$stderr" 'berth: create opt1: missing required option: "device"'
	run -1 --separate-stderr berth volume create -o size=10G opt1
	assert_eq "$stderr" 'berth: create opt1: quota size requested but no quota support'
	run -1 --separate-stderr berth volume create -d nfsplugin opt1
	assert_eq "$stderr" 'berth: create opt1: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found'
	run -1 berth volume create one two
	assert_contains "$output" "requires at most 1 argument"
	run -1 berth volume create --name x1 x2
	assert_contains "$output" "conflicting options"
	# flags: docker's status 125 and message
	run -125 --separate-stderr berth volume ls --bogus
	assert_eq "$stderr" "berth: unknown flag: --bogus
See 'berth volume ls --help'."
	run -125 --separate-stderr berth volume rm -x data
	assert_eq "${stderr%%$'\n'*}" "berth: unknown shorthand flag: 'x' in -x"
	run -125 --separate-stderr berth volume inspect --format
	assert_eq "${stderr%%$'\n'*}" "berth: flag needs an argument: --format"
	run -125 --separate-stderr berth volume create --label "=x" lab
	assert_eq "${stderr%%$'\n'*}" "berth: invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name"
	run -125 berth volume --bogus
	run -1 --separate-stderr berth volume frobnicate
	assert_one_line_error "$stderr" "unknown command: berth volume frobnicate"
	assert_eq "$(volume_rows; volume_dirs)" "$before"
}

@test "volume: --help for the group and each command" {
	run -0 berth volume
	assert_has_line "$output" "Usage:  berth volume COMMAND"
	run -0 berth volume --help
	local sub group="$output"
	for sub in create inspect ls prune rm; do
		assert_contains "$group" "  $sub "
		run -0 berth volume "$sub" --help
		assert_contains "${lines[0]}" "Usage:  berth volume $sub"
		run -0 berth volume "$sub" -h
	done
	run -0 berth volume list --help
	assert_contains "$output" "Only display volume names"
}

@test "volume: a directory without a row (a crash's leftover) is invisible and pruned" {
	mkdir -p "$BROOT/volumes/ghost/_data"
	echo stale >"$BROOT/volumes/ghost/_data/f"
	berth volume create real >/dev/null
	run -0 berth volume ls -q
	assert_eq "$output" "real"
	run -1 berth volume inspect ghost
	# created by name: a fresh empty volume, not the leftover's data
	berth volume create ghost >/dev/null
	[[ ! -e "$BROOT/volumes/ghost/_data/f" ]] || fail "stale data reused"
	berth volume rm ghost >/dev/null
	mkdir -p "$BROOT/volumes/ghost2/_data"
	run -0 berth volume prune -f
	assert_eq "$output" "Total reclaimed space: 0B"
	[[ ! -e "$BROOT/volumes/ghost2" ]] || fail "leftover not swept"
	assert_eq "$(volume_dirs)" "real"
}

@test "volume create: concurrent creators of one name make one volume" {
	local i pids=()
	for i in $(seq 8); do
		berth volume create same >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fail "a creator failed: $(cat "$BATS_TEST_TMPDIR"/out.*)"; done
	for i in $(seq 8); do assert_eq "$(cat "$BATS_TEST_TMPDIR/out.$i")" "same"; done
	assert_eq "$(volume_rows)" "same"
	assert_eq "$(volume_dirs)" "same"
	# and creators racing a prune -a: every volume left has its directory
	for i in $(seq 6); do
		berth volume create "v$i" >/dev/null &
		berth volume prune -a -f >/dev/null &
	done
	wait
	local v
	for v in $(volume_rows); do [[ -d "$BROOT/volumes/$v/_data" ]] || fail "row $v without its directory"; done
	assert_eq "$(volume_dirs)" "$(volume_rows)"
}
