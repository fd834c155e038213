/**
 * Crashing requests under real load, in a cluster: test/fixtures/cluster.js runs two copies of
 * the Express app behind a plain `node:cluster` primary that replaces a worker as soon as it
 * says it is draining. While a load runs, the test sends requests that crash their worker, one
 * after another. Each crash costs exactly its own request (a 500 from the app's error handler);
 * the load sees no other failure: no reset, no hang-up, no 503.
 *
 * Three real clients: undici's keep-alive Pool (honours `Connection: close`), ApacheBench with
 * and without keep-alive, and siege. siege runs with one connection per request, its default:
 * siege 4.0.7 ignores a server's `Connection: close` in its keep-alive mode and sends the next
 * request on the closed socket (one failure per `Connection: close` against any server, a plain
 * `http.createServer` included), so its keep-alive mode measures siege. ab and siege are Debian
 * packages (apache2-utils, siege) that .ci/run installs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Pool } from 'undici';
import {
  killApps,
  makeTempDir,
  readCrashLog,
  startApp,
  waitForCount,
} from '../../graceful/test/run-app';
import type { App } from '../../graceful/test/run-app';

afterEach(killApps);

const FIXTURE = path.join(__dirname, 'fixtures', 'cluster.js');
const WORKERS = 2;
const CRASHES = 2;

interface Cluster {
  readonly app: App;
  readonly port: number;
  readonly crashLog: string;
}

async function startCluster(expressModule: string): Promise<Cluster> {
  const crashLog = path.join(makeTempDir(), 'crash.log');
  const app = startApp(
    { workers: WORKERS },
    {
      fixture: FIXTURE,
      env: {
        EXPRESS_MODULE: expressModule,
        LASTCALL_CRASH_LOG: crashLog,
        LASTCALL_LOG_LEVEL: 'warn',
      },
    },
  );
  const port = (await app.waitFor('ready', 20_000))['port'] as number;
  return { app, port, crashLog };
}

/**
 * Sends CRASHES crashing requests, each on its own connection, each once the replacement for the
 * previous one is listening, and a pause of `pauseMs` around each. Resolves with their statuses.
 */
async function crashWorkers(cluster: Cluster, pauseMs: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let index = 0; index < CRASHES; index += 1) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const client = new Client(`http://127.0.0.1:${String(cluster.port)}`);
    try {
      const response = await client.request({ path: '/crash/timer', method: 'GET' });
      await response.body.text();
      statuses.push(response.statusCode);
    } finally {
      await client.close();
    }
    // The worker that crashed said it is draining; its replacement listens, the old one exits.
    await waitForCount(cluster.app, 'listening', WORKERS + index + 1, 20_000);
    await waitForCount(cluster.app, 'worker-exit', index + 1, 20_000);
  }
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  return statuses;
}

/** After the load: every crash was a worker's exit 1 with its request in the crash log. */
async function expectCrashesReported(cluster: Cluster): Promise<void> {
  const exits = cluster.app.events.filter((event) => event.event === 'worker-exit');
  expect(exits.map((event) => event['code'])).toEqual(Array<number>(CRASHES).fill(1));
  const reports = readCrashLog(cluster.crashLog);
  expect(reports.map((report) => report['request'])).toEqual(
    Array<unknown>(CRASHES).fill(expect.objectContaining({ method: 'GET', url: '/crash/timer' })),
  );
  cluster.app.child.kill('SIGTERM');
  expect(await cluster.app.exited(20_000)).toEqual({ code: 0, signal: null });
}

interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a load tool until `whileRunning` settles, then stops it with SIGINT (ab and siege both
 * print their summary on SIGINT). `maxMs` bounds the run whatever happens.
 */
function runTool(
  command: string,
  args: readonly string[],
  whileRunning: () => Promise<unknown>,
  maxMs = 60_000,
): Promise<ToolRun & { readonly during: unknown }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let during: unknown;
    let failure: Error | undefined;
    let isSettled = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), maxMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(killer);
      reject(
        error.code === 'ENOENT'
          ? new Error(
              `${command} is not installed: apt-get install -y ${command === 'ab' ? 'apache2-utils' : command} (.ci/run does)`,
            )
          : error,
      );
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      const output = (): string =>
        `stdout: ${Buffer.concat(stdout).toString('utf8')}\nstderr: ${Buffer.concat(stderr).toString('utf8')}`;
      if (!isSettled) {
        reject(
          new Error(
            `${command} exited (${String(code)}) before the crashes were done\n${output()}`,
          ),
        );
        return;
      }
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      resolve({
        code,
        during,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.on('spawn', () => {
      whileRunning().then(
        (value) => {
          isSettled = true;
          during = value;
          child.kill('SIGINT');
        },
        (error: unknown) => {
          isSettled = true;
          failure =
            error instanceof Error ? error : new Error('the crashes failed', { cause: error });
          child.kill('SIGINT');
        },
      );
    });
  });
}

/** A number from a tool's summary line such as `Failed requests:        0`. */
function figure(output: string, label: string): number | undefined {
  const match = new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(output);
  return match === null ? undefined : Number(match[1]);
}

describe.each(['express', 'express5'])('%s in a cluster, crashing under load', (expressModule) => {
  it('costs each crash its own request only, under a keep-alive undici Pool', async () => {
    const cluster = await startCluster(expressModule);
    const pool = new Pool(`http://127.0.0.1:${String(cluster.port)}`, { connections: 10 });
    const tally = { ok: 0, statuses: [] as number[], errors: [] as string[] };
    let isLoading = true;
    const loop = async (): Promise<void> => {
      while (isLoading) {
        try {
          const response = await pool.request({ path: '/slow?ms=2', method: 'GET' });
          await response.body.text();
          if (response.statusCode === 200) tally.ok += 1;
          else tally.statuses.push(response.statusCode);
        } catch (error) {
          const { code, message } = error as NodeJS.ErrnoException;
          tally.errors.push(code ?? message);
        }
      }
    };
    const loops = Array.from({ length: 10 }, loop);
    let crashStatuses: number[];
    try {
      crashStatuses = await crashWorkers(cluster, 500);
    } finally {
      isLoading = false;
      await Promise.all(loops);
      await pool.close();
    }
    expect(crashStatuses).toEqual(Array<number>(CRASHES).fill(500));
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(tally.ok).toBeGreaterThan(100);
    await expectCrashesReported(cluster);
  });

  it.each([
    ['with keep-alive', ['-k']],
    ['without keep-alive', []],
  ])('ApacheBench %s sees no failed request and no reset', async (_mode, flags) => {
    const cluster = await startCluster(expressModule);
    const url = `http://127.0.0.1:${String(cluster.port)}/ok`;
    // -t bounds the run, -n (after -t) lifts ab's implied 50,000; SIGINT ends it after the crashes.
    // Without -r ab stops at the first socket error (`apr_socket_recv: Connection reset by peer`).
    const run = await runTool(
      'ab',
      [...flags, '-c', '8', '-t', '50', '-n', '5000000', '-s', '10', url],
      () => crashWorkers(cluster, 400),
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.during).toEqual(Array<number>(CRASHES).fill(500));
    expect(output).not.toMatch(/apr_socket|reset by peer|timed out/i);
    expect(figure(run.stdout, 'Complete requests')).toBeGreaterThan(100);
    expect(figure(run.stdout, 'Failed requests')).toBe(0);
    expect(run.stdout).not.toMatch(/Non-2xx responses/);
    if (flags.includes('-k'))
      expect(figure(run.stdout, 'Keep-Alive requests')).toBeGreaterThan(100);
    await expectCrashesReported(cluster);
  });

  it('siege (a connection per request) sees 100% availability and no failed transaction', async () => {
    const cluster = await startCluster(expressModule);
    const rc = path.join(makeTempDir(), 'siegerc');
    // The settings that matter, not the user's ~/.siege: a connection per request, no HTML
    // parser (it would fetch nothing here anyway), no log file, the text summary.
    fs.writeFileSync(
      rc,
      [
        'connection = close',
        'protocol = HTTP/1.1',
        'parser = false',
        'logging = false',
        'json_output = false',
        'quiet = false',
        'verbose = false',
        'failures = 1024',
        '',
      ].join('\n'),
    );
    const url = `http://127.0.0.1:${String(cluster.port)}/ok`;
    const run = await runTool('siege', ['-R', rc, '-b', '-c', '8', '-t', '50S', url], () =>
      crashWorkers(cluster, 400),
    );
    const summary = run.stderr;
    expect(run.during).toEqual(Array<number>(CRASHES).fill(500));
    expect(summary).not.toMatch(/\[error\]|socket:|reset by peer/i);
    expect(figure(summary, 'Transactions')).toBeGreaterThan(100);
    expect(figure(summary, 'Failed transactions')).toBe(0);
    expect(figure(summary, 'Availability')).toBe(100);
    await expectCrashesReported(cluster);
  });
});
