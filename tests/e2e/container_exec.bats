#!/usr/bin/env bats
# berth exec: a second process in a running container — its namespaces,
# cgroup, identity, environment, terminal and exit code — and the errors.

load berth_helpers

@test "exec: the process is inside the container (pid, mount, uts namespaces, cgroup)" {
	run -0 berth run -d --name box -h boxhost busybox sh -c 'echo made-by-init > /tmp/mark; exec sleep 1000'
	local pid
	pid="$(berth inspect -f '{{.State.Pid}}' box)"
	run -0 berth exec box sh -c 'cat /tmp/mark; hostname; cat /proc/1/cmdline | tr "\0" " "; echo'
	assert_eq "$(sed -n 1p <<<"$output")" made-by-init
	assert_eq "$(sed -n 2p <<<"$output")" boxhost
	assert_eq "$(sed -n 3p <<<"$output")" "sleep 1000 "
	# the same namespaces as the container's init, seen by the kernel
	run -0 berth exec box sh -c 'sleep 30 & echo $!; wait' &
	local ns
	for ns in pid mnt uts ipc net cgroup; do
		local inner=""
		for _ in $(seq 50); do
			inner="$(pgrep -f '^sleep 30$' | head -1)"
			[[ -n "$inner" ]] && break
			sleep 0.1
		done
		[[ -n "$inner" ]] || fail "the exec'd process never showed up"
		assert_eq "$(readlink /proc/"$inner"/ns/$ns)" "$(readlink /proc/"$pid"/ns/$ns)"
	done
	# and the container's cgroup, limits included
	assert_eq "$(grep ':memory:' /proc/"$inner"/cgroup)" "$(grep ':memory:' /proc/"$pid"/cgroup)"
	kill "$inner"
	wait
	# what exec writes, the container sees
	berth exec box sh -c 'echo from-exec > /tmp/other'
	run -0 berth exec box cat /tmp/other
	assert_eq "$output" from-exec
}

@test "exec: -u, -w, -e, --env-file, the container's env, capabilities and seccomp" {
	run -0 berth run -d --name box -e FROM_RUN=yes busybox sleep 1000
	printf 'FROM_FILE=1\n# a comment\n' >"$BATS_TEST_TMPDIR/env"
	run -0 berth exec -u 1000:1001 -w /tmp -e FOO=bar --env-file "$BATS_TEST_TMPDIR/env" box \
		sh -c 'id -u; id -g; pwd; echo $FOO $FROM_FILE $FROM_RUN'
	assert_eq "$output" "1000
1001
/tmp
bar 1 yes"
	# a user by name from the container's /etc/passwd, with its groups
	run -0 berth exec -u nobody box id
	assert_eq "$output" "$(berth run --rm -u nobody busybox id)"
	run -0 berth exec box grep -E '^(CapEff|Seccomp):' /proc/self/status
	assert_has_line "$output" "CapEff:	00000000a80425fb"
	assert_has_line "$output" "Seccomp:	2"
	# --privileged: every capability berth holds itself
	run -0 berth exec --privileged box grep '^CapEff:' /proc/self/status
	assert_eq "$output" "$(grep '^CapEff:' /proc/self/status)"
	# the user the container runs as is exec's default
	run -0 berth run -d --name asuser -u 1234 busybox sleep 1000
	run -0 berth exec asuser id -u
	assert_eq "$output" 1234
}

@test "exec: stdin only with -i; -d returns at once and the command runs on" {
	run -0 berth run -d --name box busybox sleep 1000
	run -0 bash -c "echo piped | '$BERTH' --root '$BROOT' exec -i box cat"
	assert_eq "$output" piped
	run -0 bash -c "echo piped | '$BERTH' --root '$BROOT' exec box cat"
	assert_eq "$output" ""
	run -0 berth exec -d box sh -c 'sleep 1; echo later > /tmp/detached'
	assert_eq "$output" ""
	run -1 berth exec box cat /tmp/detached
	sleep 1.5
	run -0 berth exec box cat /tmp/detached
	assert_eq "$output" later
}

@test "exec -t: a terminal of the caller's size, TERM=xterm" {
	command -v script >/dev/null || skip "script(1) is missing"
	run -0 berth run -d --name box busybox sleep 1000
	# script gives berth a terminal; its stdin stays open so it sends nothing
	run -0 bash -c "sleep 3 | script -qec \"stty rows 33 cols 91; '$BERTH' --root '$BROOT' exec -it box sh -c 'tty; stty size; echo \\\$TERM'\" /dev/null"
	output="${output//$'\r'/}"
	assert_has_line "$output" "33 91"
	assert_has_line "$output" xterm
	[[ "$output" == */dev/pts/* ]] || fail "no pty: $output"
	# without -t, no terminal
	run -1 berth exec box tty
}

@test "exec: exit codes and errors (126, not running, paused, no such container, bad flags)" {
	run -0 berth run -d --name box busybox sleep 1000
	run -7 berth exec box sh -c 'exit 7'
	run -126 berth exec box no-such-program
	assert_eq "${#lines[@]}" 1
	[[ "$output" == *no-such-program*"not found"* ]] || fail "unexpected: $output"
	run -125 berth exec --bogus box true
	[[ "$output" == *"unknown flag: --bogus"* ]] || fail "unexpected: $output"
	run -125 berth exec box
	run -125 berth exec -w relative box true
	run -1 berth exec nothere true
	assert_eq "$output" "berth: No such container: nothere"
	berth pause box
	run -1 berth exec box true
	[[ "$output" == *"is paused"* ]] || fail "unexpected: $output"
	berth unpause box
	run -1 berth exec -u nosuchuser box true
	[[ "$output" == *"unable to find user nosuchuser"* ]] || fail "unexpected: $output"
	run -0 berth create --name made busybox true
	run -1 berth exec made true
	[[ "$output" == *"is not running"* ]] || fail "unexpected: $output"
}

@test "exec: its processes end with the container, and nothing is left" {
	run -0 berth run -d --name box busybox sleep 1000
	local id
	id="$(berth inspect -f '{{.Id}}' box)"
	berth exec -d box sleep 999
	sleep 0.3
	pgrep -f '^sleep 999$' >/dev/null || fail "the detached exec is not running"
	berth rm -f box
	for _ in $(seq 30); do
		pgrep -f '^sleep 999$' >/dev/null || break
		sleep 0.1
	done
	! pgrep -f '^sleep 999$' >/dev/null || fail "an exec'd process outlived its container"
	assert_eq "$(leftovers "$id")" ""
}

@test "attach: the output from now on, stdin, the exit code, signals, detach keys" {
	run -0 berth run -d --name ticker busybox sh -c 'i=0; while sleep 0.1; do echo tick $i; i=$((i+1)); done'
	# (without --sig-proxy=false timeout's SIGTERM would go to the container)
	run -124 timeout 1 "$BERTH" --root "$BROOT" attach --sig-proxy=false ticker
	[[ "$output" == *"tick "* ]] || fail "nothing relayed: $output"
	# stdin reaches a container run with -i; its exit code is attach's
	run -0 berth run -di --name reader busybox sh -c 'read line; echo got $line; exit 3'
	run -3 bash -c "echo hello | '$BERTH' --root '$BROOT' attach reader"
	assert_eq "$output" "got hello"
	# --sig-proxy: a signal to attach goes to the container
	run -0 berth run -d --name trapper busybox sh -c 'trap "echo got-usr1; exit 5" USR1; while :; do sleep 0.1; done'
	"$BERTH" --root "$BROOT" attach trapper >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	sleep 0.5
	kill -USR1 "$pid"
	local code=0
	wait "$pid" || code=$?
	assert_eq "$code" 5
	assert_eq "$(cat "$BATS_TEST_TMPDIR/out")" got-usr1
	# ctrl-p ctrl-q on a terminal detaches; the container runs on
	if command -v script >/dev/null; then
		run -0 berth run -dit --name shell busybox sh
		run -0 bash -c "(sleep 0.5; printf '\\020\\021'; sleep 2) | timeout 10 script -qec \"'$BERTH' --root '$BROOT' attach shell\" /dev/null"
		assert_eq "$(berth inspect -f '{{.State.Status}}' shell)" running
	fi
	run -1 berth attach nothere
	assert_eq "$output" "berth: No such container: nothere"
	berth stop -t 0 ticker >/dev/null
	run -1 berth attach ticker
	assert_eq "$output" "berth: You cannot attach to a stopped container, start it first"
}
