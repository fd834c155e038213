/** The help texts of the `lastcall` command, one per command. */

const START = `Usage: lastcall start <script> [options] [-- <script arguments>]

Runs a cluster master in the foreground (no daemon: the right shape for systemd, containers and
Kubernetes). Each worker runs <script>. SIGTERM drains every worker and exits 0; a second SIGTERM
or SIGINT exits at once.

Options:
  --workers <n>          how many workers (default: LASTCALL_WORKERS, else one per core)
  --heartbeat-port <p>   serve the load-balancer heartbeat (GET /ecv) on this port
  --heartbeat-host <h>   the heartbeat's address (default 127.0.0.1); any other address (0.0.0.0,
                         the host's own) needs a token
  --heartbeat-token <t>  the token of the heartbeat's disable and enable routes (default:
                         LASTCALL_HEARTBEAT_TOKEN); never printed
  --shutdown-delay <ms>  on SIGTERM or stop: ms of heartbeat 503 and Connection: close, still
                         serving, before the drain (default: LASTCALL_SHUTDOWN_DELAY, else 3000
                         with a heartbeat, else 0); the master's only, not the workers'
  --keep-alive-timeout <ms>
                         keepAliveTimeout of every HTTP server of the app; behind a balancer
                         that keeps connections open, longer than its idle timeout
  --headers-timeout <ms> headersTimeout of every HTTP server of the app
  --output <mode>        the workers' stdout and stderr lines: inherit (default, printed as they
                         are) or log (one record each through the master's logger)
  --pid-file <file>      the pid file (default: <run dir>/<name>.pid); its control socket is beside it
  --pid-dir <dir>        write the pid files there: the master's <name>.pid (unless --pid-file) and
                         each ready worker's <name>-worker-<slot>.pid
  --name <name>          the app name (default: LASTCALL_APP_NAME, else package.json's name)
  --env <KEY=VALUE>      extra environment of every worker; repeatable
  --config <file>        the configuration file (default: lastcall.config.js or .json, if present)
  -h, --help             this help

The configuration file takes the options of @lastcall/master by the same names (workers,
readyTimeout, drainTimeout, heartbeat, recycle, health, ...). Flags win over the file, the file
over the environment.`;

const TARGET = `  --name <name>          the app name the master was started with (default: as for start)
  --pid-file <file>      the master's pid file, when start was given one
  --pid-dir <dir>        the pid folder, when start was given one`;

const RELOAD = `Usage: lastcall reload [options]

Rolling restart of a running master: one worker at a time, each replacement ready before the old
worker drains. Waits until it is done; exits 6 with the reason when the new build did not come up
(the old workers go on serving).

Options:
${TARGET}
  --timeout <seconds>    give up waiting after this long (default 900)
  -h, --help             this help`;

const STOP = `Usage: lastcall stop [options]

Stops a running master as SIGTERM does: every worker drains, then the master exits. Waits until
the master has exited.

With --force, stops it at once: SIGKILL to every worker and the processes it started, no drain
(requests in flight are cut off), also when a graceful stop is under way; the master exits 0
once they are gone.

Options:
${TARGET}
  --force                SIGKILL every worker and its children now instead of draining
  --timeout <seconds>    give up waiting after this long (default 120)
  -h, --help             this help`;

const STATUS = `Usage: lastcall status [options]

Prints the workers of a running master (slot, pid, state, uptime, restarts, memory, requests)
and whether the host is in rotation.

Options:
${TARGET}
  --json                 print JSON instead of a table
  -h, --help             this help`;

const DISABLE = `Usage: lastcall disable [options]

Takes a running master's host out of rotation: its heartbeat (/ecv, /readyz) answers 503
"disabled", and every worker says Connection: close on each response while it serves on, so
that the balancer and kept-alive clients move elsewhere. Nothing stops; undo with
lastcall enable. Through the control socket: no token needed.

Options:
${TARGET}
  -h, --help             this help`;

const ENABLE = `Usage: lastcall enable [options]

Puts a host taken out by lastcall disable (or the heartbeat's disable route) back into
rotation: heartbeat 200 again, keep-alive on again.

Options:
${TARGET}
  -h, --help             this help`;

const MAIN = `Usage: lastcall <command> [options]

Commands:
  start <script>   run a cluster master of <script> in the foreground
  reload           rolling restart of a running master
  stop             drain and stop a running master
  status           the workers of a running master
  disable          take a running master's host out of rotation (heartbeat 503)
  enable           put it back into rotation
  help <command>   the help of a command

Options:
  -h, --help       this help
  -v, --version    the version

Exit codes: 0 done, 1 failed, 2 usage, 3 script not found, 4 port in use, 5 not running,
6 reload aborted, 7 start failed, 8 already running, 9 bad configuration, 10 timed out,
11 unsafe run folder.`;

export const USAGE = {
  main: MAIN,
  start: START,
  reload: RELOAD,
  stop: STOP,
  status: STATUS,
  disable: DISABLE,
  enable: ENABLE,
};

export type CommandName = 'start' | 'reload' | 'stop' | 'status' | 'disable' | 'enable';
