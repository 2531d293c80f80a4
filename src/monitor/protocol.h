/* The conversation between berth and a container's monitor (berth-monitor).
 *
 * The monitor is exec'd by the process that created the container, so the
 * container's init is its child.  It holds the container's stdio (pipes, or
 * the pty master), writes the json-file log, serves attach clients on a unix
 * socket, records the exit status in the exit file, and, once the container
 * is gone, either lets an owning client clean up or execs the exit command
 * (`berth container cleanup ID`), which then holds the monitor's pid.
 *
 * Command line (every fd is inherited, not CLOEXEC):
 *   berth-monitor --id ID --pid PID --exit-file PATH --log PATH
 *                 [--log-max-size BYTES] [--log-max-file N]
 *                 [--stdin FD] --stdout FD --stderr FD | --tty FD
 *                 --socket PATH [--client FD] [--ready FD]
 *                 [--periodic-interval MILLISECONDS --periodic-arg ARG ...]
 *                 -- EXIT-COMMAND ARGV...
 *
 * --periodic-*: while the container runs, the monitor forks and execs the
 * command made of the --periodic-arg values every interval (health checks:
 * `berth container healthcheck ID`), never two at once, reaping it.
 *
 * Attach socket: SOCK_SEQPACKET at --socket (mode 0600); each packet is
 * one message: a type byte then the payload (at most MONITOR_MAX_PAYLOAD
 * bytes).  --client FD is a connected SOCK_SEQPACKET socket of an already
 * attached client (berth run in the foreground) that behaves as if it had
 * sent MSG_HELLO with "ioeO".
 */
#ifndef BERTH_MONITOR_PROTOCOL_H
#define BERTH_MONITOR_PROTOCOL_H

#define MONITOR_MAX_PAYLOAD 32768

enum monitor_msg {
  /* client -> monitor */
  MSG_HELLO = 'h',       /* payload: letters: i (send me nothing, I write stdin), o (stdout), e (stderr),
                            O (owner: I will clean up, see MSG_CLEANED) */
  MSG_STDIN = 'i',       /* payload: bytes for the container's stdin */
  MSG_STDIN_CLOSE = 'c', /* close the container's stdin (docker's StdinOnce) */
  MSG_RESIZE = 'r',      /* payload: "ROWS COLS" decimal: TIOCSWINSZ on the pty */
  MSG_CLEANED = 'd',     /* from the owner after MSG_EXIT: it cleaned up, the monitor exits without
                            running the exit command */
  /* monitor -> client */
  MSG_STDOUT = 'o',
  MSG_STDERR = 'e',
  MSG_EXIT = 'x', /* payload: decimal status as a shell reports it (128+N when killed by signal N);
                     sent after the last output */
};

/* Exit file (written atomically: temp file then rename, by the monitor when
 * init has been reaped): one line "STATUS FINISHED_AT_UNIX_NANOSECONDS\n".
 * The monitor's log file: docker's json-file lines
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-23T15:49:09.123456789Z"}
 * --ready FD: the monitor writes one byte and closes it once the socket
 * listens (berth start waits on it before returning). */

#endif
