#!/usr/bin/env bats
# process.terminal with --console-socket: the pty master goes to the socket,
# the container sees a terminal; consoleSize.

load helpers

# start_recvtty [RECVTTY-ARGS...]: listens on $SOCK, output to $TTY_OUT
start_recvtty() {
	SOCK="$BATS_TEST_TMPDIR/console.sock"
	TTY_OUT="$BATS_TEST_TMPDIR/tty.out"
	"$HELPER" recvtty "$SOCK" --timeout 30 "$@" >"$TTY_OUT" 2>"$BATS_TEST_TMPDIR/recvtty.err" &
	RECVTTY_PID=$!
	on_teardown kill "$RECVTTY_PID"
	wait_for_file "$SOCK"
}

# Waits for recvtty to finish (the terminal closed); prints its output
# without carriage returns.
tty_output() {
	wait "$RECVTTY_PID" || fail "recvtty failed: $(cat "$BATS_TEST_TMPDIR/recvtty.err")"
	tr -d '\r' <"$TTY_OUT"
}

@test "terminal: the pty master is sent to the console socket; the process has a terminal" {
	update_config '.process.terminal = true'
	set_args helper tty
	start_recvtty
	create_ctr "" --console-socket "$SOCK"
	runtime start "$CTR_ID"
	local out
	out="$(tty_output)"
	assert_has_line "$out" "stdin=/dev/pts/0"
	assert_has_line "$out" "stdout=/dev/pts/0"
	assert_has_line "$out" "stderr=/dev/pts/0"
	assert_has_line "$out" "ctty=yes"
	assert_contains "$(cat "$BATS_TEST_TMPDIR/recvtty.err")" "received fd"
}

@test "terminal: consoleSize sets the window size" {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 111}'
	set_args helper tty
	start_recvtty
	create_ctr "" --console-socket "$SOCK"
	runtime start "$CTR_ID"
	assert_has_line "$(tty_output)" "size=33x111"
}

@test "terminal: input written to the pty master reaches the process" {
	update_config '.process.terminal = true'
	set_args sh -c 'read line; echo "got:$line"'
	start_recvtty --input 'hello-through-pty\n'
	create_ctr "" --console-socket "$SOCK"
	runtime start "$CTR_ID"
	assert_has_line "$(tty_output)" "got:hello-through-pty"
}

@test "terminal: an interactive shell over the pty" {
	update_config '.process.terminal = true'
	set_args sh
	start_recvtty --input 'echo $((6*7))\nexit 5\n'
	create_ctr "" --console-socket "$SOCK"
	runtime start "$CTR_ID"
	assert_has_line "$(tty_output)" "42"
	wait_for_status "$CTR_ID" stopped
}

@test "terminal: run --detach with a console socket" {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 24, "width": 80}'
	set_args helper tty
	start_recvtty
	runtime run --detach --console-socket "$SOCK" --bundle "$BUNDLE" "$CTR_ID" </dev/null >/dev/null
	local out
	out="$(tty_output)"
	assert_has_line "$out" "stdout=/dev/pts/0"
	assert_has_line "$out" "size=24x80"
}

@test "terminal: without terminal the process has no tty" {
	set_args helper tty
	run -0 run_ctr
	assert_has_line "$output" "stdin=notty"
	assert_has_line "$output" "stdout=notty"
	assert_has_line "$output" "ctty=no"
}

@test "terminal: terminal true but no console socket fails create and leaves nothing" {
	update_config '.process.terminal = true'
	run ! runtime create --bundle "$BUNDLE" "$CTR_ID" </dev/null
	run -0 runtime list -q
	assert_eq "$output" ""
}

@test "terminal: a console socket nobody listens on fails create and leaves nothing" {
	update_config '.process.terminal = true'
	run ! runtime create --console-socket "$BATS_TEST_TMPDIR/none.sock" --bundle "$BUNDLE" "$CTR_ID" </dev/null
	run -0 runtime list -q
	assert_eq "$output" ""
}
