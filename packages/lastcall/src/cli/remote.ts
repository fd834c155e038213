import * as path from 'node:path';
import type { HeartbeatBody, RestartReport, WorkerInfo } from '@lastcall/master';
import type { Target } from './args';
import { askMaster } from './control';
import type { ControlCommand, ControlReply, StatusReply } from './control';
import { CliFailure, EXIT } from './exit-codes';
import {
  controlSocketPath,
  defaultName,
  isAlive,
  listRunning,
  livePid,
  masterPidFile,
} from './paths';

/** Where a command that talks to a running master looks. */
export interface RemoteContext {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
}

interface Located {
  readonly name: string;
  readonly pid: number;
  readonly socket: string;
}

/** Finds the running master of `target`; throws `notRunning` when there is none. */
export function locate(target: Target, context: RemoteContext): Located {
  const pidFile = path.resolve(
    context.cwd,
    target.pidFile ??
      masterPidFile(
        target.name ?? defaultName(context.cwd, context.env),
        target.pidDir,
        context.env,
      ),
  );
  // Given only the pid file, the name it was started with is the file's (`<name>.pid`).
  const name =
    target.name ??
    (target.pidFile === undefined
      ? defaultName(context.cwd, context.env)
      : path.basename(pidFile).replace(/\.pid$/, ''));
  const pid = livePid(pidFile);
  if (pid === undefined) {
    throw new CliFailure(
      EXIT.notRunning,
      `no master of "${name}" is running (no live process in ${pidFile}; start it with \`lastcall start\`, or give --name or --pid-file)${runningHint(context.env)}`,
    );
  }
  return { name, pid, socket: controlSocketPath(pidFile, context.env) };
}

/** `; running: shop (pid 12), cart (pid 40)` when other masters run in the run folder. */
function runningHint(env: NodeJS.ProcessEnv): string {
  const running = listRunning(env);
  if (running.length === 0) return '';
  const list = running.map((master) => `${master.name} (pid ${String(master.pid)})`).join(', ');
  return `; running: ${list}`;
}

async function ask(
  located: Located,
  command: ControlCommand,
  timeoutMs: number,
  fields: { readonly force?: boolean } = {},
): Promise<ControlReply> {
  try {
    return await askMaster(located.socket, command, timeoutMs, fields);
  } catch (error) {
    if (error instanceof CliFailure && error.exitCode === EXIT.notRunning) {
      throw new CliFailure(
        EXIT.notRunning,
        `the master of "${located.name}" (pid ${String(located.pid)}) does not answer on ${located.socket}: is it still starting, or not started by \`lastcall start\`?`,
      );
    }
    throw error;
  }
}

/** `lastcall reload`: waits for the rolling restart; exit 6 when it aborted. */
export async function reload(
  target: Target,
  timeoutMs: number,
  context: RemoteContext,
): Promise<void> {
  const located = locate(target, context);
  const reply = await ask(located, 'reload', timeoutMs);
  if (!reply.ok) {
    const aborted = reply.error.code === 'LASTCALL_ERR_MASTER_RESTART_ABORTED';
    throw new CliFailure(
      aborted ? EXIT.reloadAborted : EXIT.failed,
      `reload: ${reply.error.message}`,
    );
  }
  const report = reply.report as RestartReport;
  const pids = report.replaced.map(
    (step) => `${String(step.oldPid ?? '-')} → ${String(step.newPid ?? '-')}`,
  );
  context.out(
    `lastcall: reloaded ${String(report.replaced.length)} workers of ${located.name} in ${(report.duration / 1000).toFixed(1)} s (${pids.join(', ')})`,
  );
}

/**
 * `lastcall stop`: asks for the graceful stop (or, with `force`, the immediate one: SIGKILL to
 * every worker and its children) and waits until the master has exited.
 */
export async function stop(
  target: Target,
  timeoutMs: number,
  context: RemoteContext,
  force = false,
): Promise<void> {
  const located = locate(target, context);
  const deadline = Date.now() + timeoutMs;
  const reply = await ask(located, 'stop', timeoutMs, force ? { force } : {});
  if (!reply.ok) throw new CliFailure(EXIT.failed, `stop: ${reply.error.message}`);
  if (force && reply.stopping?.force !== true) {
    // A master of a version before --force reads the request as a graceful stop.
    throw new CliFailure(
      EXIT.failed,
      `stop --force: the master of "${located.name}" (pid ${String(located.pid)}) does not know the forced stop (an older lastcall); it began a graceful stop instead. Wait for it, or kill its workers yourself`,
    );
  }
  while (isAlive(located.pid)) {
    if (Date.now() >= deadline) {
      throw new CliFailure(
        EXIT.timeout,
        `stop: the master (pid ${String(located.pid)}) still runs after ${String(timeoutMs / 1000)} s; its workers may still be draining`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const workers = reply.stopping?.workers ?? [];
  context.out(
    force
      ? `lastcall: force-stopped ${located.name} (master pid ${String(located.pid)}): SIGKILL to ${String(workers.length)} workers and their children${workers.length === 0 ? '' : ` (pids ${workers.map((worker) => String(worker.pid ?? '-')).join(', ')})`}, no drain`
      : `lastcall: stopped ${located.name} (master pid ${String(located.pid)})`,
  );
}

/** `lastcall status`: a table of the workers, or `--json`. */
export async function status(target: Target, json: boolean, context: RemoteContext): Promise<void> {
  const located = locate(target, context);
  const reply = await ask(located, 'status', 10_000);
  if (!reply.ok) throw new CliFailure(EXIT.failed, `status: ${reply.error.message}`);
  const answer = reply.status as StatusReply;
  if (json) {
    context.out(JSON.stringify(answer, null, 2));
    return;
  }
  const { master } = answer;
  context.out(
    `${master.name}: master pid ${String(master.pid)}, up ${duration(master.uptime)}, ${path.relative(context.cwd, master.script) || master.script}` +
      (master.heartbeat === undefined
        ? ''
        : `, heartbeat ${master.heartbeat.address}:${String(master.heartbeat.port)}`),
  );
  if (master.health !== undefined)
    context.out(rotationLine(master.disabled === true, master.health));
  context.out(table(answer.workers));
  for (const note of droppedOutputNotes(answer.workers)) context.out(note);
}

/** `lastcall disable`, `lastcall enable`: through the control socket, no token needed. */
export async function setRotation(
  target: Target,
  command: 'disable' | 'enable',
  context: RemoteContext,
): Promise<void> {
  const located = locate(target, context);
  const reply = await ask(located, command, 10_000);
  // A master of a version before disable and enable answers "unknown request".
  const isUnknown = !reply.ok && reply.error.message.startsWith('unknown request');
  if (!reply.ok && !isUnknown) {
    throw new CliFailure(EXIT.failed, `${command}: ${reply.error.message}`);
  }
  if (!reply.ok || reply.rotation === undefined) {
    throw new CliFailure(
      EXIT.failed,
      `${command}: the master of "${located.name}" (pid ${String(located.pid)}) does not know ${command} (an older lastcall)`,
    );
  }
  context.out(
    `lastcall: ${located.name}: ${rotationLine(reply.rotation.disabled, reply.rotation.health)}`,
  );
}

/** `rotation: out (disabled); heartbeat 503 disabled, version 1.2.0`. */
function rotationLine(
  isDisabled: boolean,
  health: { readonly statusCode: number; readonly body: HeartbeatBody },
): string {
  const { body } = health;
  const inRotation = health.statusCode === 200;
  const draining =
    body.draining.workers > 0
      ? `, ${String(body.draining.workers)} draining with ${String(body.draining.inFlight)} requests in flight`
      : '';
  return (
    `rotation: ${inRotation ? 'in' : `out (${isDisabled ? 'disabled' : body.status})`}; ` +
    `heartbeat ${String(health.statusCode)} ${body.status}, version ${body.version ?? 'unknown'}${draining}`
  );
}

/** The workers as an aligned text table. */
export function table(workers: readonly WorkerInfo[]): string {
  const header = [
    'slot',
    'pid',
    'state',
    'uptime',
    'restarts',
    'memory',
    'requests',
    'connections',
  ];
  const rows = workers.map((worker) => [
    String(worker.slot),
    String(worker.pid ?? '-'),
    worker.state,
    duration(worker.uptime),
    String(worker.restarts),
    worker.rss === undefined ? '-' : `${(worker.rss / 2 ** 20).toFixed(1)} MiB`,
    String(worker.requests),
    String(worker.connections),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * One line per worker whose output the master dropped (its own stdout or stderr did not keep
 * up), to print under the table: a rare event that does not earn a column.
 */
export function droppedOutputNotes(workers: readonly WorkerInfo[]): string[] {
  return workers.flatMap((worker) => {
    const dropped = worker.droppedOutput;
    if (dropped === undefined || dropped.lines === 0) return [];
    return [
      `slot ${String(worker.slot)} (pid ${String(worker.pid ?? '-')}): ${String(dropped.lines)} ` +
        `lines of output dropped (${(dropped.bytes / 2 ** 20).toFixed(1)} MiB): the master's ` +
        'stdout or stderr did not keep up',
    ];
  });
}

/** `3h 2m`, `5m 10s`, `42s`. */
export function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${String(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${String(minutes)}m ${String(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${String(hours)}h ${String(minutes % 60)}m`;
  return `${String(Math.floor(hours / 24))}d ${String(hours % 24)}h`;
}
