/**
 * The CLI's unit-test kit, in-process against src (the child-process kit is cli-support.ts): a
 * captured io in a temp folder, a control server standing in for a master, and the parser's
 * failures. What it opens is closed by {@link runCleanups}, which each test file calls in its
 * `afterEach`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkerInfo } from '@lastcall/master';
import { parseCommandLine, UsageFailure } from '../src/cli/args';
import type { StartArgs } from '../src/cli/args';
import { ControlServer } from '../src/cli/control';
import type { ControlActions, StatusReply } from '../src/cli/control';
import type { CliIo } from '../src/cli/main';
import { controlSocketPath } from '../src/cli/paths';
import { masterOptions } from '../src/cli/start';
import { fakeLogger } from './fake-logger';

const cleanups: (() => void)[] = [];

/** Runs `cleanup` at the next {@link runCleanups}, after those registered later. */
export function onCleanup(cleanup: () => void): void {
  cleanups.push(cleanup);
}

/** Closes and removes what the test opened, the last opened first; call it in `afterEach`. */
export function runCleanups(): void {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
}

/** A {@link CliIo} that keeps what it prints, with the run folder its env names. */
export interface CapturedIo extends CliIo {
  readonly outLines: string[];
  readonly errLines: string[];
  readonly runDir: string;
}

/** An io of a fresh temp cwd holding `files`, with its run folder in the env; removed after. */
export function captureIo(
  files: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = {},
): CapturedIo {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-cli-unit-'));
  onCleanup(() => {
    fs.rmSync(cwd, { recursive: true, force: true });
  });
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(cwd, name)), { recursive: true });
    fs.writeFileSync(path.join(cwd, name), content);
  }
  const runDir = path.join(cwd, 'run');
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    cwd,
    env: { LASTCALL_RUN_DIR: runDir, ...env },
    out: (line) => outLines.push(line),
    err: (line) => errLines.push(line),
    version: '1.2.3',
    outLines,
    errLines,
    runDir,
  };
}

/** Writes the pid file of the app `name` in the run folder of `io`, naming this (live) process. */
export function writeLivePidFile(io: CapturedIo, name = 'shop'): string {
  const pidFile = path.join(io.runDir, `${name}.pid`);
  fs.mkdirSync(io.runDir, { recursive: true });
  fs.writeFileSync(pidFile, `${String(process.pid)}\n`);
  return pidFile;
}

/** A ready worker in slot 0 (pid 4242, up 1m 5s, 50 MiB, 1200 requests, 3 connections). */
export const READY_WORKER: WorkerInfo = {
  slot: 0,
  port: undefined,
  id: 1,
  pid: 4242,
  state: 'ready',
  uptime: 65_000,
  restarts: 0,
  rss: 50 * 2 ** 20,
  requests: 1200,
  connections: 3,
  lastExit: undefined,
};

/**
 * The status of the master "shop" of `workers`: this process, up 3h 2m, its heartbeat on
 * 127.0.0.1:8081, its script /srv/shop/app.js; `master` overrides any of these.
 */
export function shopStatus(
  master: Partial<StatusReply['master']>,
  workers: readonly WorkerInfo[],
): StatusReply {
  return {
    master: {
      pid: process.pid,
      name: 'shop',
      script: '/srv/shop/app.js',
      uptime: 3 * 3_600_000 + 2 * 60_000,
      heartbeat: { address: '127.0.0.1', port: 8081 },
      ...master,
    },
    workers,
  };
}

/**
 * A control server in this process for the master "shop" of `io`, answering with `actions`: its
 * pid file names this process (alive), its socket is where the commands look. Closed by
 * {@link runCleanups}.
 */
export async function serveControl(io: CapturedIo, actions: ControlActions): Promise<void> {
  const pidFile = writeLivePidFile(io);
  const server = new ControlServer(controlSocketPath(pidFile, io.env), actions, fakeLogger());
  onCleanup(() => {
    server.close();
  });
  await server.listen();
}

/** The {@link UsageFailure} `parseCommandLine(argv)` throws; fails the test when it returns. */
export function parseFailure(argv: readonly string[]): UsageFailure {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageFailure) return error;
    throw error;
  }
  throw new Error(`parseCommandLine(${JSON.stringify(argv)}) returned instead of throwing`);
}

/** The StartArgs of `lastcall start app.js <flags>`. */
export function startArgs(...flags: string[]): StartArgs {
  const parsed = parseCommandLine(['start', 'app.js', ...flags]);
  if (parsed.command !== 'start') throw new Error(`not a start: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** The script, name and pid file that `start` resolved for the app "shop". */
export const resolved = {
  script: '/srv/shop/app.js',
  name: 'shop',
  pidFile: '/run/lastcall/shop.pid',
};

/** What `masterOptions(args, {}, resolved)` throws, or undefined when it returns. */
export function masterOptionsFailure(args: StartArgs): unknown {
  try {
    masterOptions(args, {}, resolved);
  } catch (error) {
    return error;
  }
  return undefined;
}
