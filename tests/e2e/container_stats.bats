#!/usr/bin/env bats
# berth top, stats, update, info and port: what they report is checked
# against the kernel (cgroup files, /proc) and the container record.

load berth_helpers

# The container's cgroup directory for a v1 controller (or the cgroup2 one).
cg() { # ID CONTROLLER
	local d
	for d in "/sys/fs/cgroup/$2/berth/$1" "/sys/fs/cgroup/berth/$1"; do
		[[ -d "$d" ]] && {
			echo "$d"
			return 0
		}
	done
	return 1
}

# Whitespace runs squeezed to one blank, as a way to compare table rows.
squeeze() { tr -s ' ' <<<"$1"; }

@test "top: the container's processes in ps's columns, and nothing else" {
	run -0 berth run -d --name tp busybox sh -c 'sleep 1001 & exec sleep 1000'
	local pid
	pid="$(berth inspect -f '{{.State.Pid}}' tp)"
	retry 50 0.05 bash -c "[[ \$(cat /proc/$pid/cmdline | tr '\0' ' ') == 'sleep 1000 ' ]]"
	run -0 berth top tp
	assert_eq "$(squeeze "${lines[0]}")" "UID PID PPID C STIME TTY TIME CMD"
	assert_eq "${#lines[@]}" 3
	# rows of the container's pids only: init and its child
	local row1 row2
	row1="$(grep -E ' sleep 1000$' <<<"$output")" || fail "no sleep 1000 row: $output"
	row2="$(grep -E ' sleep 1001$' <<<"$output")" || fail "no sleep 1001 row: $output"
	assert_eq "$(awk '{print $2}' <<<"$row1")" "$pid"
	assert_eq "$(awk '{print $3}' <<<"$row2")" "$pid"
	# docker's tabwriter: cells padded to at least 20 columns
	[[ "${lines[0]}" == "UID                 PID                 PPID  "* ]] || fail "layout: ${lines[0]}"
	# ps options are passed on
	run -0 berth top tp -o pid,comm
	assert_eq "$(squeeze "${lines[0]}")" "PID COMMAND"
	assert_has_line "$(squeeze "$output")" "$pid sleep"
	assert_eq "${#lines[@]}" 3
}

@test "top: a stopped or unknown container, and ps options docker refuses" {
	run -0 berth create --name idle busybox sleep 1000
	local id
	id="$(berth inspect -f '{{.Id}}' idle)"
	run -1 --separate-stderr berth top idle
	assert_eq "$stderr" "berth: container $id is not running"
	assert_eq "$output" ""
	run -1 --separate-stderr berth top nosuch
	assert_eq "$stderr" "berth: No such container: nosuch"
	run -0 berth start idle
	run -1 --separate-stderr berth top idle -o user=PID
	assert_eq "$stderr" "berth: specifying \"user=PID\" is not allowed"
	run -1 --separate-stderr berth top idle --no-such-ps-option
	assert_one_line_error "$stderr" "ps: "
	run -0 berth top --help
	assert_contains "$output" "Usage:  berth top CONTAINER [ps OPTIONS]"
}

@test "stats --no-stream: memory as the kernel counts it, the -m limit, pids" {
	# 20 MiB in the container's /dev/shm (tmpfs: charged to its memory cgroup)
	run -0 berth run -d --name sm -m 64m busybox sh -c \
		'dd if=/dev/zero of=/dev/shm/fill bs=1M count=20 2>/dev/null; touch /done; sleep 1001 & exec sleep 1000'
	local id
	id="$(berth inspect -f '{{.Id}}' sm)"
	retry 100 0.05 test -e "$BROOT/containers/$id/diff/done"
	run -0 berth stats --no-stream --format '{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}|{{.NetIO}}|{{.BlockIO}}' sm
	local usage limit perc pids
	IFS='|' read -r usage perc pids _ _ <<<"$output"
	limit="${usage#* / }"
	usage="${usage%% / *}"
	assert_eq "$limit" "64MiB"
	[[ "$usage" == *MiB ]] || fail "usage $usage is not in MiB"
	awk -v u="${usage%MiB}" 'BEGIN { exit !(u >= 18 && u < 40) }' || fail "usage $usage, expected about 20MiB"
	awk -v u="${usage%MiB}" -v p="${perc%\%}" 'BEGIN { d = u / 64 * 100 - p; exit !(d < 2 && d > -2) }' ||
		fail "MEM % $perc does not match $usage of 64MiB"
	assert_eq "$pids" 2
	assert_eq "$(cut -d'|' -f4 <<<"$output")" "0B / 0B"
	# the same figure as the kernel's (usage minus inactive file pages)
	local dir kernel
	dir="$(cg "$id" memory)"
	kernel=$(($(cat "$dir/memory.usage_in_bytes") - $(awk '$1 == "total_inactive_file" {print $2}' "$dir/memory.stat")))
	awk -v k="$kernel" -v u="${usage%MiB}" 'BEGIN { d = k / 1048576 - u; exit !(d < 2 && d > -2) }' ||
		fail "kernel says $kernel bytes, stats $usage"
	assert_eq "$(cat "$(cg "$id" pids)/pids.current")" 2
}

@test "stats: CPU % of a busy container under --cpus, and docker's table" {
	run -0 berth run -d --name busy --cpus 0.5 busybox sh -c 'while :; do :; done'
	run -0 berth run -d --name quiet busybox sleep 1000
	run -0 berth create --name never busybox true
	run -0 berth stats --no-stream
	assert_eq "$(squeeze "${lines[0]}")" "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS"
	[[ "${lines[0]}" == "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"* ]] || fail "layout: ${lines[0]}"
	assert_eq "${#lines[@]}" 3
	local busy_id cpu
	busy_id="$(berth inspect -f '{{.Id}}' busy)"
	cpu="$(grep "^${busy_id:0:12} " <<<"$output" | awk '{print $3}')"
	# half a CPU at most, measured over half a second
	awk -v c="${cpu%\%}" 'BEGIN { exit !(c >= 20 && c <= 75) }' || fail "busy container at $cpu CPU"
	assert_contains "$(grep ' quiet ' <<<"$output")" "0.00%"
	# -a adds the created one with docker's zeros
	run -0 berth stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}'
	assert_has_line "$output" "never 0.00% 0B / 0B 0"
	assert_eq "${#lines[@]}" 3
	# a table template gets its own header
	run -0 berth stats --no-stream --format 'table {{.Name}}\t{{.PIDs}}' quiet
	assert_eq "${lines[0]}" "NAME      PIDS"
	assert_eq "${lines[1]}" "quiet     1"
}

@test "stats: --format json, --no-trunc, the live redraw, and unknown containers" {
	run -0 berth run -d --name js busybox sleep 1000
	local id
	id="$(berth inspect -f '{{.Id}}' js)"
	run -0 berth stats --no-stream --no-trunc --format json js
	assert_eq "$(jq -r '.Name' <<<"$output")" js
	assert_eq "$(jq -r '.Container' <<<"$output")" js
	assert_eq "$(jq -r '.ID' <<<"$output")" "$id"
	assert_eq "$(jq -r '.PIDs' <<<"$output")" 1
	assert_eq "$(jq -r 'keys | join(",")' <<<"$output")" "BlockIO,CPUPerc,Container,ID,MemPerc,MemUsage,Name,NetIO,PIDs"
	# live: the screen is cleared and redrawn every second until interrupted
	run -124 timeout 2.8 "$BERTH" --root "$BROOT" stats js
	local clears
	clears="$(grep -o $'\033\\[2J\033\\[H' <<<"$output" | wc -l)"
	((clears >= 2)) || fail "redrawn $clears times: $output"
	assert_contains "$output" "${id:0:12}   js "
	run -1 --separate-stderr berth stats --no-stream js nosuch
	assert_eq "$stderr" "berth: No such container: nosuch"
	assert_eq "$output" ""
}

@test "update: a running container's kernel limits and HostConfig change, and stay after a restart" {
	run -0 berth run -d --name up -m 64m busybox sleep 1000
	local id mem cpu pids
	id="$(berth inspect -f '{{.Id}}' up)"
	mem="$(cg "$id" memory)" cpu="$(cg "$id" cpu)" pids="$(cg "$id" pids)"
	assert_eq "$(cat "$mem/memory.limit_in_bytes")" 67108864
	assert_eq "$(cat "$cpu/cpu.cfs_quota_us")" -1
	assert_eq "$(cat "$pids/pids.max")" max
	run -0 berth update -m 100m --memory-swap 200m --cpus 0.5 --cpu-shares 512 --pids-limit 50 up
	assert_eq "$output" up
	assert_eq "$(cat "$mem/memory.limit_in_bytes")" 104857600
	assert_eq "$(cat "$mem/memory.memsw.limit_in_bytes")" 209715200
	assert_eq "$(cat "$cpu/cpu.cfs_quota_us")" 50000
	assert_eq "$(cat "$cpu/cpu.cfs_period_us")" 100000
	assert_eq "$(cat "$cpu/cpu.shares")" 512
	assert_eq "$(cat "$pids/pids.max")" 50
	run -0 berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}' up
	assert_eq "$output" "104857600 209715200 500000000 512 50"
	# the next start builds its limits from the record
	run -0 berth restart -t 1 up
	assert_eq "$(cat "$mem/memory.limit_in_bytes")" 104857600
	assert_eq "$(cat "$cpu/cpu.cfs_quota_us")" 50000
	assert_eq "$(cat "$pids/pids.max")" 50
	# -1 lifts the pids limit
	run -0 berth update --pids-limit -1 up
	assert_eq "$(cat "$pids/pids.max")" max
	# stats shows the new limit
	run -0 berth stats --no-stream --format '{{.MemUsage}}' up
	assert_eq "${output#* / }" "100MiB"
}

@test "update: a stopped container keeps the values for its next start; several containers at once" {
	run -0 berth create --name s1 busybox sleep 1000
	run -0 berth create --name s2 busybox sleep 1000
	run -0 berth update --memory 50m --pids-limit 20 --restart on-failure:2 s1 s2
	assert_eq "$output" "s1
s2"
	run -0 berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' s1
	assert_eq "$output" "52428800 20 on-failure:2"
	run -0 berth start s1
	local id
	id="$(berth inspect -f '{{.Id}}' s1)"
	assert_eq "$(cat "$(cg "$id" memory)/memory.limit_in_bytes")" 52428800
	assert_eq "$(cat "$(cg "$id" pids)/pids.max")" 20
}

@test "update: bad values and unknown containers give one error and change nothing" {
	run -0 berth run -d --name bd -m 64m busybox sleep 1000
	local id mem before
	id="$(berth inspect -f '{{.Id}}' bd)"
	mem="$(cg "$id" memory)"
	before="$(berth inspect -f '{{json .HostConfig}}' bd)"
	run -125 --separate-stderr berth update --memory 12xb bd
	assert_eq "${stderr%%$'\n'*}" "berth: invalid argument \"12xb\" for \"-m, --memory\" flag: invalid suffix: 'xb'"
	run -125 --separate-stderr berth update --pids-limit abc bd
	assert_eq "${stderr%%$'\n'*}" "berth: invalid argument \"abc\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax"
	run -1 --separate-stderr berth update -m 10m nosuch
	assert_eq "$stderr" "berth: No such container: nosuch"
	run -1 --separate-stderr berth update -m 1m bd
	assert_eq "$stderr" "berth: Minimum memory limit allowed is 6MB"
	# docker's rule: more memory than the swap limit already set needs --memory-swap too
	run -1 --separate-stderr berth update -m 200m bd
	assert_one_line_error "$stderr" "Cannot update container $id: Memory limit should be smaller than already set memoryswap limit"
	run -1 --separate-stderr berth update --cpuset-cpus 0-511 bd
	assert_one_line_error "$stderr" "Requested CPUs are not available - requested 0-511"
	run -1 --separate-stderr berth update bd
	assert_eq "$stderr" "berth: you must provide one or more flags when using this command"
	# nothing of the refused updates reached the record or the kernel
	assert_eq "$(berth inspect -f '{{json .HostConfig}}' bd)" "$before"
	assert_eq "$(cat "$mem/memory.limit_in_bytes")" 67108864
	# one bad name among good ones: the good ones are updated, exit 1
	run -1 --separate-stderr berth update -m 32m bd nosuch
	assert_eq "$output" bd
	assert_eq "$stderr" "berth: No such container: nosuch"
	assert_eq "$(cat "$mem/memory.limit_in_bytes")" 33554432
	# --restart with --rm is docker's conflict
	run -0 berth run -d --rm --name gone busybox sleep 1000
	run -1 --separate-stderr berth update --restart always gone
	assert_contains "$stderr" "Restart policy cannot be updated because AutoRemove is enabled for the container"
}

@test "info: counts, storage, cgroups and host facts; --format" {
	run -0 berth run -d --name i1 busybox sleep 1000
	run -0 berth create --name i2 busybox true
	run -0 berth info
	assert_has_line "$output" " Containers: 2"
	assert_has_line "$output" "  Running: 1"
	assert_has_line "$output" "  Paused: 0"
	assert_has_line "$output" "  Stopped: 1"
	assert_has_line "$output" " Images: 1"
	assert_has_line "$output" " Storage Driver: overlay2"
	assert_has_line "$output" " Logging Driver: json-file"
	assert_has_line "$output" " Cgroup Driver: cgroupfs"
	local v=1
	[[ "$(stat -fc %T /sys/fs/cgroup)" == cgroup2fs ]] && v=2
	assert_has_line "$output" " Cgroup Version: $v"
	assert_has_line "$output" " Kernel Version: $(uname -r)"
	assert_has_line "$output" " CPUs: $(nproc)"
	assert_has_line "$output" " Docker Root Dir: $BROOT"
	assert_has_line "$output" "   Profile: builtin"
	assert_has_line "$output" " OSType: linux"
	assert_has_line "$output" " Architecture: $(uname -m)"
	assert_has_line "$output" " Name: $(hostname)"
	run -0 berth info --format '{{.Containers}} {{.ContainersRunning}} {{.Driver}} {{.ServerVersion}}'
	assert_eq "$output" "2 1 overlay2 $("$BERTH" --version | awk '{print $3}')"
	run -0 berth info --format json
	assert_eq "$(jq -r .OSType <<<"$output")" linux
	assert_eq "$(jq -r .MemTotal <<<"$output")" "$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))"
	# the ID is made once and kept
	local id
	id="$(jq -r .ID <<<"$output")"
	[[ "$id" =~ ^[0-9a-f-]{36}$ ]] || fail "ID $id"
	assert_eq "$(berth info --format '{{.ID}}')" "$id"
	run -0 berth system info --format '{{json .SecurityOptions}}'
	assert_eq "$output" '["name=seccomp,profile=builtin","name=cgroupns"]'
}

@test "port: no published ports yet; docker's error for a private port" {
	run -0 berth run -d --name pt busybox sleep 1000
	run -0 --separate-stderr berth port pt
	assert_eq "$output" ""
	assert_eq "$stderr" ""
	run -1 --separate-stderr berth port pt 80/tcp
	assert_eq "$stderr" "berth: Error: No public port '80/tcp' published for pt"
	run -1 --separate-stderr berth port pt 80
	assert_eq "$stderr" "berth: Error: No public port '80' published for pt"
	run -1 --separate-stderr berth port pt http
	assert_one_line_error "$stderr" "invalid port (http)"
	run -1 --separate-stderr berth port nosuch
	assert_eq "$stderr" "berth: No such container: nosuch"
	run -0 berth container port --help
	assert_contains "$output" "port CONTAINER [PRIVATE_PORT[/PROTO]]"
}
