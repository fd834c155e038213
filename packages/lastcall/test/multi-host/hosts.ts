/**
 * One `lastcall start` per lab host: the example app (examples/multi-host/app.js) copied into a
 * folder of the host's own, run by the built CLI inside the host's namespace with 2 workers, its
 * heartbeat bound to the host's address with a token, and a run folder (XDG_RUNTIME_DIR) of its
 * own so that each master has its own control socket.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pidsIn } from './lab';
import type { Lab, LabHost } from './lab';
import { runIn, sleep, spawnIn } from './processes';
import type { LabProcess } from './processes';

/** The built bin, as a user installs it. */
export const CLI = path.resolve(__dirname, '..', '..', 'bin', 'lastcall.js');

/** The folder of the example `name` in examples/, which the lab runs as it is. */
export function exampleDir(name: string): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'examples', name);
}

export const EXAMPLE_DIR = exampleDir('multi-host');
/**
 * Fixed ports: each host has a network namespace of its own, in which nothing else can hold them,
 * and the balancer's configuration names them as an operator's would.
 */
export const APP_PORT = 8080;
export const HEARTBEAT_PORT = 9000;
export const HEARTBEAT_TOKEN = 'lab-heartbeat-token-0123456789';
/** The version the app folders start with (examples/multi-host/package.json). */
export const FIRST_VERSION = '1.0.0';

const tempDirs: string[] = [];

/** A fresh folder (mode 0700), removed by {@link removeTempDirs}. */
export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lastcall-mh-${label}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** What `lastcall start` gets beyond the lab's defaults. */
export interface StartOptions {
  /** More flags, e.g. `['--shutdown-delay', '4000']`. */
  readonly args?: readonly string[];
  /** More environment of the master (and so of its workers). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * How the scenarios start a host unless they test something else: with the keep-alive timeout
 * docs/deploying.md recommends behind a balancer that keeps connections open (above nginx's 60 s
 * upstream keepalive_timeout and HAProxy's idle server connections), and answers that take 10 ms,
 * so that requests are in flight at every transition.
 */
export const RECOMMENDED: StartOptions = {
  args: ['--keep-alive-timeout', '65000', '--headers-timeout', '66000'],
  env: { RESPONSE_DELAY_MS: '10' },
};

export interface HostApp {
  readonly host: LabHost;
  /** The app's folder on this host: app.js and package.json. */
  readonly appDir: string;
  /** The host's run folder (XDG_RUNTIME_DIR). */
  readonly runtimeDir: string;
  /** The app name (`--name`). */
  readonly name: string;
  readonly heartbeatUrl: string;
  /** How a deploy driver runs this host's `lastcall`: with its run folder in the environment. */
  readonly lastcallCommand: readonly string[];
  /** The master, after {@link HostApp.start}. */
  master(): LabProcess;
  /** Whether its master was started and runs. */
  isRunning(): boolean;
  start(options?: StartOptions): Promise<void>;
  /** Runs `lastcall <args>` against this host's master (its control socket). */
  cli(
    args: readonly string[],
    ms?: number,
  ): Promise<{ code: number | string; stdout: string; stderr: string }>;
  /** Puts a release in the app folder: a version, and a build that crashes at start when `isBroken`. */
  setRelease(version: string, options?: { isBroken?: boolean }): void;
}

/** The host's app, installed at {@link FIRST_VERSION}; not started. */
export function createHostApp(host: LabHost): HostApp {
  const appDir = makeTempDir(`app-${host.name}`);
  const runtimeDir = makeTempDir(`run-${host.name}`);
  const name = `shop-${host.name}`;
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    XDG_RUNTIME_DIR: runtimeDir,
    LASTCALL_LOG_LEVEL: 'warn',
  };
  let master: LabProcess | undefined;
  const setRelease = (version: string, { isBroken = false } = {}): void => {
    const app = fs.readFileSync(path.join(EXAMPLE_DIR, 'app.js'), 'utf8');
    fs.writeFileSync(
      path.join(appDir, 'app.js'),
      isBroken ? `throw new Error('bad build ${version}: the configuration is missing');\n` : app,
    );
    const manifest = JSON.parse(
      fs.readFileSync(path.join(EXAMPLE_DIR, 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    fs.writeFileSync(
      path.join(appDir, 'package.json'),
      `${JSON.stringify({ ...manifest, version }, null, 2)}\n`,
    );
  };
  setRelease(FIRST_VERSION);
  return {
    host,
    appDir,
    runtimeDir,
    name,
    heartbeatUrl: `http://${host.address}:${String(HEARTBEAT_PORT)}`,
    lastcallCommand: ['env', `XDG_RUNTIME_DIR=${runtimeDir}`, process.execPath, CLI],
    master: () => {
      if (master === undefined) throw new Error(`host ${host.name} was not started`);
      return master;
    },
    isRunning: () => master?.isRunning() ?? false,
    start: async ({ args = [], env = {} } = {}) => {
      master = spawnIn(
        host.netns,
        process.execPath,
        [
          CLI,
          'start',
          'app.js',
          '--workers',
          '2',
          '--name',
          name,
          '--heartbeat-host',
          host.address,
          '--heartbeat-port',
          String(HEARTBEAT_PORT),
          ...args,
        ],
        {
          cwd: appDir,
          env: {
            ...baseEnv,
            LASTCALL_HEARTBEAT_TOKEN: HEARTBEAT_TOKEN,
            HOST_NAME: host.name,
            PORT: String(APP_PORT),
            ...env,
          },
        },
      );
      await master.waitForLine(new RegExp(`^lastcall: ${name} is running 2 workers`), 30_000);
    },
    cli: (args, ms = 60_000) =>
      runIn(
        undefined,
        process.execPath,
        [CLI, ...args, '--name', name],
        { env: baseEnv, cwd: appDir },
        ms,
      ),
    setRelease,
  };
}

/** An answer of a heartbeat route, asked from the balancer's namespace. */
export interface HeartbeatAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/**
 * `GET <route>` of `host`'s heartbeat, as the balancer sees it (from its namespace, with curl):
 * the status (0 when nothing answered) and the JSON body.
 */
export async function heartbeat(lab: Lab, app: HostApp, route: string): Promise<HeartbeatAnswer> {
  const result = await runIn(
    lab.lbNetns,
    'curl',
    ['-sS', '-m', '5', '-w', '\n%{http_code}', `${app.heartbeatUrl}${route}`],
    { env: { PATH: process.env['PATH'] } },
    15_000,
  );
  const lines = result.stdout.split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status, body };
}

/** The parts of `lastcall status --json` the tests read. */
export interface MasterStatus {
  readonly master: {
    readonly pid: number;
    readonly disabled: boolean;
    readonly health: { readonly statusCode: number; readonly body: Record<string, unknown> };
  };
  readonly workers: readonly { readonly pid: number; readonly state: string }[];
}

/** `lastcall status --json` of the host's master. */
export async function status(app: HostApp): Promise<MasterStatus> {
  const result = await app.cli(['status', '--json'], 15_000);
  if (result.code !== 0)
    throw new Error(`lastcall status exited ${String(result.code)}: ${result.stderr}`);
  return JSON.parse(result.stdout) as MasterStatus;
}

/** The pids of the host's workers, as `lastcall status` lists them. */
export async function workerPids(app: HostApp): Promise<number[]> {
  return (await status(app)).workers.map((worker) => worker.pid);
}

/** Resolves when no process runs in the host's namespace any more; rejects after `ms`. */
export async function waitUntilEmpty(app: HostApp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pidsIn(app.host.netns).length > 0) {
    if (Date.now() > deadline) {
      throw new Error(`host ${app.host.name} still runs ${pidsIn(app.host.netns).join(', ')}`);
    }
    await sleep(100);
  }
}

/**
 * Starts the host's master again with `options` and a good build: SIGKILLs the running one
 * first and waits until its workers, orphaned, have exited too (they do within 1 s).
 */
export async function restartHost(app: HostApp, options: StartOptions): Promise<void> {
  if (app.isRunning()) {
    app.master().kill('SIGKILL');
    await app.master().exited(10_000);
  }
  await waitUntilEmpty(app, 10_000);
  app.setRelease(FIRST_VERSION);
  await app.start(options);
}

/**
 * The headers of a POST to the app on `app`'s host, sent straight to it (not through a balancer)
 * from the balancer's namespace, lower-cased names.
 */
export async function appHeaders(lab: Lab, app: HostApp): Promise<Record<string, string>> {
  const result = await runIn(
    lab.lbNetns,
    'curl',
    [
      '-sS',
      '-m',
      '5',
      '-X',
      'POST',
      '-D',
      '-',
      '-o',
      '/dev/null',
      `http://${app.host.address}:${String(APP_PORT)}/`,
    ],
    { env: { PATH: process.env['PATH'] } },
    15_000,
  );
  const headers: Record<string, string> = {};
  for (const line of result.stdout.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
