#!/usr/bin/env bats
# berth's container lifecycle: run (foreground and -d), create/start,
# stop/kill/rm/wait, ps, logs, inspect, exit codes, what a container sees
# from the inside, and that nothing is left behind.

load berth_helpers

@test "run: the container's output, and its exit code as berth's" {
	run -0 berth run --rm busybox echo hello from a container
	assert_eq "$output" "hello from a container"
	run -3 berth run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
	assert_has_line "$output" out
	assert_has_line "$output" err
	# stdout and stderr stay apart
	run -0 bash -c "'$BERTH' --root '$BROOT' run --rm busybox sh -c 'echo out; echo err >&2' 2>/dev/null"
	assert_eq "$output" out
	# a signal's death is 128+N (pid 1 cannot get SIGKILL from inside)
	run -0 berth run -d --name victim busybox sleep 100
	berth kill victim
	run -0 berth wait victim
	assert_eq "$output" 137
}

@test "run --rm: nothing is left, inside berth or outside" {
	run -0 berth run --rm --name gone busybox true
	run -0 berth ps -aq
	assert_eq "$output" ""
	# (the runtime keeps its compiled seccomp filters: shared, not the container's)
	assert_eq "$(ls -A -I seccomp-cache "$BROOT/containers" "$BROOT/run/containers" "$BROOT/run/runtime")" "$BROOT/containers:

$BROOT/run/containers:

$BROOT/run/runtime:"
	! grep -qF "$BROOT" /proc/self/mountinfo || fail "mounts left: $(grep -F "$BROOT" /proc/self/mountinfo)"
	# the cgroups of the containers this test made are gone
	run -0 berth run -d --name kept busybox sleep 100
	local id
	id="$(berth inspect -f '{{.Id}}' kept)"
	[[ -n "$(leftovers "$id" | grep '^cgroup')" ]] || fail "no cgroup seen for a running container"
	berth rm -f kept
	assert_eq "$(leftovers "$id")" ""
}

@test "run: the built-in busybox image has the /etc mount points, so a container's upper layer stays empty" {
	run -0 berth run --name quiet busybox sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts'
	local id
	id="$(berth inspect -f '{{.Id}}' quiet)"
	# what the container sees is the engine's files, bound over the image's
	assert_eq "$(sed -n 1p <<<"$output")" "${id:0:12}"
	assert_eq "$(sed -n 2p <<<"$output")" 2
	# nothing was created in the upper layer: no copy-up of /etc, no mount points
	run -0 ls -A "$BROOT/containers/$id/diff"
	assert_eq "$output" ""
}

@test "run: what the process sees: env, user, workdir, hostname, pid 1, capabilities, seccomp" {
	run -0 berth run --rm -e FOO=bar -w /tmp -u 1000:1000 -h myhost busybox sh -c \
		'echo $FOO; pwd; id -u; id -g; hostname; echo $$; grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status'
	assert_eq "$(sed -n 1p <<<"$output")" bar
	assert_eq "$(sed -n 2p <<<"$output")" /tmp
	assert_eq "$(sed -n 3p <<<"$output")" 1000
	assert_eq "$(sed -n 4p <<<"$output")" 1000
	assert_eq "$(sed -n 5p <<<"$output")" myhost
	assert_eq "$(sed -n 6p <<<"$output")" 1
	# root: docker's 14 default capabilities, the default seccomp filter
	run -0 berth run --rm busybox grep -E '^(CapEff|CapBnd|Seccomp):' /proc/self/status
	assert_has_line "$output" "CapEff:	00000000a80425fb"
	assert_has_line "$output" "CapBnd:	00000000a80425fb"
	assert_has_line "$output" "Seccomp:	2"
	# the default profile refuses what docker's refuses
	run -1 berth run --rm busybox unshare -m true
	run -0 berth run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined busybox grep Seccomp: /proc/self/status
	assert_eq "$output" "Seccomp:	0"
	run -0 berth run --rm --cap-drop ALL --cap-add NET_RAW busybox grep CapEff: /proc/self/status
	assert_eq "$output" "CapEff:	0000000000002000"
	run -0 berth run --rm --privileged busybox grep Seccomp: /proc/self/status
	assert_eq "$output" "Seccomp:	0"
	run -0 berth run --rm --domainname example.org busybox cat /proc/sys/kernel/domainname
	assert_eq "$output" example.org
	# the image's Env and the user's -e
	run -0 berth run --rm busybox sh -c 'echo $PATH; echo $HOSTNAME'
	assert_eq "$(sed -n 1p <<<"$output")" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	[[ "$(sed -n 2p <<<"$output")" =~ ^[0-9a-f]{12}$ ]] || fail "HOSTNAME: $output"
}

@test "run: ulimits clamped to the host, --ulimit, --read-only, --tmpfs, -v bind" {
	local hard
	hard="$(ulimit -Hn)"
	run -0 berth run --rm busybox sh -c 'ulimit -n; ulimit -Hn'
	assert_eq "$output" "$hard
$hard"
	run -0 berth run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn'
	assert_eq "$output" "100
200"
	run -1 berth run --rm --read-only busybox touch /x
	assert_contains "$output" "Read-only file system"
	run -0 berth run --rm --read-only --tmpfs /scratch busybox sh -c 'touch /scratch/x && grep " /scratch " /proc/mounts'
	assert_contains "$output" "tmpfs /scratch tmpfs"
	mkdir -p "$BATS_TEST_TMPDIR/data"
	echo from-host >"$BATS_TEST_TMPDIR/data/f"
	run -0 berth run --rm -v "$BATS_TEST_TMPDIR/data:/data" busybox sh -c 'cat /data/f; echo from-container > /data/g'
	assert_eq "$output" from-host
	assert_eq "$(cat "$BATS_TEST_TMPDIR/data/g")" from-container
	run -1 berth run --rm -v "$BATS_TEST_TMPDIR/data:/data:ro" busybox touch /data/h
	[[ ! -e "$BATS_TEST_TMPDIR/data/h" ]]
}

@test "run: limits reach the kernel's cgroups" {
	run -0 berth run -d --name lim -m 64m --memory-swap 128m --cpus 0.5 --pids-limit 20 --cpu-shares 512 busybox sleep 100
	local id pid
	id="$(berth inspect -f '{{.Id}}' lim)"
	pid="$(berth inspect -f '{{.State.Pid}}' lim)"
	local mem cpu pids
	mem="$(awk -F: '$2 ~ /memory/ {print $3}' "/proc/$pid/cgroup")"
	assert_eq "$(cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes")" $((64 << 20))
	# memory+swap only where the kernel accounts swap
	if [[ -f "/sys/fs/cgroup/memory$mem/memory.memsw.limit_in_bytes" ]]; then
		assert_eq "$(cat "/sys/fs/cgroup/memory$mem/memory.memsw.limit_in_bytes")" $((128 << 20))
	fi
	cpu="$(awk -F: '$2 ~ /cpu,/ || $2 == "cpu" {print $3}' "/proc/$pid/cgroup" | head -1)"
	assert_eq "$(cat /sys/fs/cgroup/cpu,cpuacct$cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu$cpu/cpu.cfs_quota_us)" 50000
	assert_eq "$(cat /sys/fs/cgroup/cpu,cpuacct$cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu$cpu/cpu.shares)" 512
	pids="$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")"
	assert_eq "$(cat "/sys/fs/cgroup/pids$pids/pids.max")" 20
	[[ "$mem" == */berth/$id ]] || fail "memory cgroup $mem"
	berth rm -f lim
	[[ ! -d "/sys/fs/cgroup/memory$mem" ]] || fail "cgroup left: $mem"
}

@test "run -d, ps, logs, stop, wait, start, rm" {
	run -0 berth run -d --name web busybox sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'
	local id="$output"
	[[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "not an ID: $id"
	run -0 berth ps
	assert_contains "$(sed -n 1p <<<"$output")" "CONTAINER ID   IMAGE     COMMAND"
	assert_contains "$output" "${id:0:12}"
	assert_contains "$output" "Up "
	assert_contains "$output" " web"
	run -0 berth ps --format '{{.Names}} {{.State}}'
	assert_eq "$output" "web running"
	retry 50 0.1 bash -c "'$BERTH' --root '$BROOT' logs web | grep -q started"
	run -0 berth stop web
	assert_eq "$output" web
	run -0 berth logs web
	assert_eq "$output" "started
bye"
	run -0 berth wait web
	assert_eq "$output" 0
	run -0 berth ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" =~ ^"web Exited (0) " ]] || fail "status: $output"
	run -0 berth ps -q
	assert_eq "$output" ""
	# start again: the same container, its log continued
	run -0 berth start web
	retry 50 0.1 bash -c "[ \$('$BERTH' --root '$BROOT' logs web | grep -c started) = 2 ]"
	run -0 berth inspect -f '{{.State.Status}} {{.Name}} {{.Config.Image}}' web
	assert_eq "$output" "running /web busybox"
	# the json-file log, as docker writes it
	local log
	log="$(berth inspect -f '{{.LogPath}}' web)"
	run -0 jq -r 'select(.stream == "stdout") | .log' "$log"
	assert_eq "$(head -1 <<<"$output")" started
	run -0 jq -r .time "$log"
	[[ "$(head -1 <<<"$output")" =~ ^20[0-9-]+T[0-9:.]+Z$ ]] || fail "time: $output"
	run -1 berth rm web
	assert_contains "$output" 'cannot remove container "/web": container is running'
	run -0 berth rm -f web
	assert_eq "$output" web
	assert_eq "$(leftovers "$id")" ""
	run -1 berth logs web
	assert_contains "$output" "No such container: web"
}

@test "create, start -a, and a name already in use" {
	run -0 berth create --name c1 busybox echo created-then-started
	local id="$output"
	run -0 berth ps -a --format '{{.Names}} {{.Status}}'
	assert_eq "$output" "c1 Created"
	run -0 berth start -a c1
	assert_eq "$output" created-then-started
	run -125 berth create --name c1 busybox true
	assert_contains "$output" "Conflict. The container name \"/c1\" is already in use by container \"$id\""
	run -0 berth ps -aq
	assert_eq "$(wc -l <<<"$output")" 1
}

@test "bad input: docker's exit codes, one line, nothing made" {
	run -125 berth run --rm nosuchimage:1 true
	assert_contains "$output" "nosuchimage"
	run -127 berth run --rm busybox nosuchcommand
	assert_contains "$output" "nosuchcommand"
	run -126 berth run --rm busybox /etc/passwd
	run -125 berth run --rm -m 12xb busybox true
	assert_eq "$output" "berth: invalid argument \"12xb\" for \"-m, --memory\" flag: invalid suffix: 'xb'
See 'berth run --help'."
	run -125 berth run --rm --nosuchflag busybox true
	assert_contains "$output" "unknown flag: --nosuchflag"
	run -125 berth run --rm -v /no/such/dir:/x busybox true
	assert_contains "$output" "/no/such/dir"
	run -125 berth run --rm --name 'bad name' busybox true
	assert_contains "$output" "Invalid container name"
	run -1 berth rm nosuch
	assert_contains "$output" "No such container: nosuch"
	# as docker: rm -f of what is not there is no error, and says nothing
	run -0 berth rm -f nosuch
	assert_eq "$output" ""
	run -125 berth run --rm --group-add nosuchgroup busybox true
	assert_contains "$output" "unable to find group nosuchgroup"
	run -125 berth run --rm --userns private busybox true
	assert_contains "$output" 'invalid argument "private" for "--userns" flag'
	# the failed runs with --rm left nothing; without --rm docker keeps the
	# container "created" with its error
	run -127 berth run --name kept busybox nosuchcommand
	run -0 berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' kept
	assert_eq "$output" "created 127"
	berth rm kept
	run -0 berth ps -aq
	assert_eq "$output" ""
	! grep -qF "$BROOT" /proc/self/mountinfo || fail "mounts left: $(grep -F "$BROOT" /proc/self/mountinfo)"
}

@test "run --network host, --group-add, --userns keep-id: what the process sees" {
	# the host's network namespace and name; the rest stays the container's own
	run -0 berth run -d --name hostnet --network host busybox sleep 1000
	local pid
	pid="$(berth inspect -f '{{.State.Pid}}' hostnet)"
	assert_eq "$(readlink /proc/"$pid"/ns/net)" "$(readlink /proc/self/ns/net)"
	[[ "$(readlink /proc/"$pid"/ns/uts)" != "$(readlink /proc/self/ns/uts)" ]] || fail "the host's uts namespace"
	run -0 berth exec hostnet hostname
	assert_eq "$output" "$(hostname)"
	run -0 berth run --rm busybox sh -c 'ls /sys/class/net'
	assert_eq "$output" lo
	# supplementary groups by number and by the image's group name
	run -0 berth run --rm -u 1000 --group-add 1234 --group-add nobody busybox id -G
	assert_eq "$output" "0 1234 65534"
	# keep-id: a user namespace of its own, same IDs inside; its root has
	# no power over the host's devices (mknod refused despite CAP_MKNOD)
	run -0 berth run -d --name userns --userns keep-id busybox sleep 1000
	pid="$(berth inspect -f '{{.State.Pid}}' userns)"
	[[ "$(readlink /proc/"$pid"/ns/user)" != "$(readlink /proc/self/ns/user)" ]] || fail "no user namespace"
	assert_eq "$(stat -c %u /proc/"$pid")" 0
	run -0 berth exec userns sh -c 'id -u; grep CapEff /proc/self/status'
	assert_eq "$output" "0
CapEff:	00000000a80425fb"
	run -1 berth exec userns mknod /tmp/null c 1 3
	run -0 berth run --rm busybox mknod /tmp/null c 1 3
}

@test "kill, restart policy on-failure:2 with back-off, and unless-stopped stays stopped" {
	run -0 berth run -d --name flaky --restart on-failure:2 busybox sh -c 'echo run; exit 1'
	retry 100 0.1 bash -c "[ \"\$('$BERTH' --root '$BROOT' inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)\" = '2 exited' ]" ||
		fail "$(berth inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)"
	run -0 berth logs flaky
	assert_eq "$output" "run
run
run"
	run -0 berth run -d --name always --restart always busybox sleep 100
	run -0 berth kill always
	sleep 0.5
	run -0 berth inspect -f '{{.State.Status}} {{.RestartCount}}' always
	assert_eq "$output" "exited 0"
}

@test "kill -9 of a monitor: ps tells the truth, rm -f cleans up" {
	run -0 berth run -d --name orphan busybox sleep 100
	local id pid mon
	id="$(berth inspect -f '{{.Id}}' orphan)"
	pid="$(berth inspect -f '{{.State.Pid}}' orphan)"
	mon="$(ps -o ppid= -p "$pid" | tr -d ' ')"
	kill -9 "$mon"
	run -0 berth ps --format '{{.Names}} {{.State}}'
	assert_eq "$output" "orphan running"
	kill -9 "$pid"
	retry 50 0.1 bash -c "! kill -0 $pid 2>/dev/null"
	run -0 berth ps -a --format '{{.Names}} {{.State}}'
	assert_eq "$output" "orphan exited"
	berth rm -f orphan
	assert_eq "$(leftovers "$id")" ""
}

@test "twenty concurrent run -d: twenty distinct names, all running" {
	local i
	for i in $(seq 20); do
		"$BERTH" --root "$BROOT" run -d busybox sleep 100 >"$BATS_TEST_TMPDIR/id.$i" 2>&1 &
	done
	wait
	cat "$BATS_TEST_TMPDIR"/id.* | grep -vE '^[0-9a-f]{64}$' && fail "a run failed"
	run -0 berth ps --format '{{.Names}}'
	assert_eq "$(wc -l <<<"$output")" 20
	assert_eq "$(sort -u <<<"$output" | wc -l)" 20
}

@test "rename: the new name finds it, the old one no more; a taken or bad name is refused" {
	run -0 berth create --name first busybox true
	local id="$output"
	run -0 berth create --name taken busybox true
	run -0 berth rename first second
	assert_eq "$(berth inspect -f '{{.Id}} {{.Name}}' second)" "$id /second"
	run -1 berth inspect first
	run -1 berth rename second taken
	assert_contains "$output" 'The container name "/taken" is already in use'
	run -1 berth rename second 'bad name'
	assert_contains "$output" "Invalid container name"
	assert_eq "$(berth inspect -f '{{.Name}}' "$id")" /second
	run -0 berth version
	assert_contains "$output" "Version:"
}

@test "ps -s: what the container wrote, and that plus its image" {
	run -0 berth run -d --name writer busybox sh -c 'head -c 1000000 /dev/zero > /big; sleep 100'
	retry 50 0.1 bash -c "[ \"\$(stat -c %s '$BROOT/containers/'\$('$BERTH' --root '$BROOT' inspect -f '{{.Id}}' writer)'/diff/big' 2>/dev/null)\" = 1000000 ]"
	run -0 berth ps -s
	[[ "$(sed -n 1p <<<"$output")" =~ NAMES\ +SIZE$ ]] || fail "header: $output"
	run -0 berth ps -s --format '{{.Size}}'
	assert_eq "$output" "1MB (virtual 2.98MB)"
}

@test "stop -s: the signal given, not the container's; --log-opt rotates at docker's (decimal) max-size" {
	run -0 berth run -d --name sig --stop-signal TERM busybox sh -c 'trap "echo got USR1; exit 0" USR1; echo ready; while :; do sleep 0.1; done'
	retry 50 0.1 bash -c "'$BERTH' --root '$BROOT' logs sig | grep -q ready"
	run -0 berth stop -s USR1 -t 5 sig
	run -0 berth logs sig
	assert_has_line "$output" "got USR1"
	assert_eq "$(berth inspect -f '{{.State.ExitCode}}' sig)" 0
	run -0 berth run --name rot --log-opt max-size=1k --log-opt max-file=2 busybox sh -c 'for i in $(seq 200); do echo line $i; done'
	local log
	log="$(berth inspect -f '{{.LogPath}}' rot)"
	[[ -f "$log.1" && ! -e "$log.2" ]] || fail "rotation: $(ls "$(dirname "$log")")"
	(( $(stat -c %s "$log") <= 1000 && $(stat -c %s "$log.1") <= 1000 )) || fail "sizes: $(stat -c %s "$log" "$log.1")"
	run -0 berth logs rot
	assert_eq "$(tail -1 <<<"$output")" "line 200"
}

@test "container prune: only stopped containers, --filter label/label!/until, the space reclaimed" {
	run -0 berth run --name kept --label keep=yes busybox true
	run -0 berth run --name wrote busybox dd if=/dev/zero of=/big bs=1M count=1
	run -0 berth run -d --name running busybox sleep 1000
	local wrote
	wrote="$(berth inspect -f '{{.Id}}' wrote)"
	# bad filters change nothing
	run -1 berth container prune -f --filter colour=red
	assert_contains "$output" "invalid filter 'colour'"
	run -1 berth container prune -f --filter until=yesterday
	# created before 1970: nothing matches
	run -0 berth container prune -f --filter until=1
	assert_eq "$output" "Total reclaimed space: 0B"
	run -0 berth container prune -f --filter label!=keep
	assert_eq "$output" "Deleted Containers:
$wrote

Total reclaimed space: 1.05MB"
	run -0 berth ps -a --format '{{.Names}}'
	assert_eq "$(sort <<<"$output" | tr '\n' ' ')" "kept running "
	run -0 berth container prune -f --filter label=keep=yes
	run -0 berth ps -a --format '{{.Names}}'
	assert_eq "$output" running
	assert_eq "$(leftovers "$wrote")" ""
}
