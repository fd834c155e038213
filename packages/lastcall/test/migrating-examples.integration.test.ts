/**
 * The examples of docs/migrating/, run as their pages say: each old system's own README example,
 * rewritten for lastcall, started for real on a free port, under a keep-alive load, through the
 * restarts and the shutdown that system used. Every one must lose no request, exit 0 and leave
 * no process behind.
 *
 * Each example runs in a process group of its own (or, through the CLI, under the CLI kit),
 * killed whole when a test ends, so that a failing test never leaves a master behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { get, sleep, startLoad, waitGone } from '../../master/test/support';
import {
  cliEnv,
  freePort,
  killClis,
  makeTempDir,
  runCli,
  spawnCli,
  trackGroup,
} from './cli-support';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples', 'migrating');

afterEach(killClis);

interface Example {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code; rejects after `ms` with the output. */
  exited(ms: number): Promise<number | null>;
}

/** Starts `node <file>` of examples/migrating in a process group of its own. */
function startExample(file: string, env: NodeJS.ProcessEnv, cwd = makeTempDir()): Example {
  const child = spawn(process.execPath, [path.join(EXAMPLES, file)], {
    cwd,
    env: { PATH: process.env['PATH'], LASTCALL_LOG_LEVEL: 'warn', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackGroup(child.pid);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return {
    child,
    pid: child.pid,
    output: () => output,
    exited: (ms) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            reject(new Error(`${file} still running after ${String(ms)} ms\n${output}`));
          }, ms).unref(),
        ),
      ]),
  };
}

/** Waits (bounded) until `check()` holds; throws with `what` otherwise. */
async function waitUntil(
  what: string | (() => string),
  check: () => boolean,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`not within ${String(ms)} ms: ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(50);
  }
}

/** Waits (bounded) until `port` answers `GET urlPath` with 200. */
async function waitServing(port: number, ms: number, urlPath = '/'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await get(port, urlPath);
    if ('status' in answer && answer.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`port ${String(port)} not serving: ${JSON.stringify(answer)}`);
    await sleep(100);
  }
}

/** The pids of the processes whose parent is `pid` (a master's workers). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0)
      .sort();
  } catch {
    return []; // ps exits 1 when there is none
  }
}

/** Waits until `master` has exactly `count` workers, none of them in `old`; returns them. */
async function waitReplaced(
  master: number,
  old: readonly number[],
  count: number,
  ms: number,
): Promise<number[]> {
  let now: number[] = [];
  await waitUntil(
    () =>
      `${String(count)} workers of ${String(master)}, none of ${old.join(', ')} (now ${now.join(', ')})`,
    () => {
      now = childPids(master);
      return now.length === count && now.every((pid) => !old.includes(pid));
    },
    ms,
  );
  return now;
}

/** Asserts that a load lost nothing and was served. */
function expectNoLoss(tally: { ok: number; statuses: number[]; errors: string[] }): void {
  expect({ errors: tally.errors, statuses: tally.statuses }).toEqual({ errors: [], statuses: [] });
  expect(tally.ok).toBeGreaterThan(20);
}

it('thehelp-cluster: the README cluster.js and server.js with the require changed serve through SIGUSR2 and exit 0 on SIGTERM', async () => {
  const port = await freePort();
  const logsDir = makeTempDir();
  const app = startExample('thehelp-cluster/cluster.js', {
    PORT: String(port),
    THEHELP_NUMBER_WORKERS: '2',
    THEHELP_LOGS_DIR: logsDir,
    THEHELP_CRASH_LOG: path.join(logsDir, 'crash.log'),
    LASTCALL_LOG_LEVEL: 'info',
  });
  // A restart asked before start() resolved is ignored: wait for the master's "ready" line.
  await waitUntil(
    'the master ready',
    () => /lastcall:master ready \{"workers":2\}/.test(app.output()),
    30_000,
  );
  expect(await get(port, '/')).toEqual({ status: 200, body: 'success!' });
  const first = childPids(app.pid);

  const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
  app.child.kill('SIGUSR2');
  const second = await waitReplaced(app.pid, first, 2, 30_000);
  await sleep(300);
  expectNoLoss(await load.stop());

  // setupLogs(): one file per process, under THEHELP_LOGS_DIR as before.
  const files = fs.readdirSync(logsDir);
  expect(files.filter((file) => file.startsWith('master-'))).toHaveLength(1);
  expect(files.filter((file) => file.startsWith('worker-')).length).toBe(4);

  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toBe(0);
  for (const pid of [...first, ...second]) expect(await waitGone(pid, 4000)).toBe(true);
}, 90_000);

it("dutch-master: a worker's { event: 'request-restart' } and SIGUSR2 replace workers under load; SIGTERM exits 0", async () => {
  const port = await freePort();
  const app = startExample('dutch-master/master.js', { PORT: String(port) });
  // A request-restart sent before start() resolved is ignored: wait for the master's "ready".
  await waitUntil('the master ready', () => /"msg":"ready"/.test(app.output()), 30_000);
  const first = childPids(app.pid);

  const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
  const asked = await get(port, '/request-restart');
  if (!('body' in asked)) throw new Error(`no answer: ${asked.error}`);
  const requester = Number(/worker (\d+) asked/.exec(asked.body)?.[1]);
  expect(first).toContain(requester);
  const survivor = first.filter((pid) => pid !== requester);
  const afterRequest = await waitReplaced(app.pid, [requester], 2, 30_000);
  expect(afterRequest).toEqual(expect.arrayContaining(survivor));

  app.child.kill('SIGUSR2');
  const afterRestart = await waitReplaced(app.pid, afterRequest, 2, 30_000);
  await sleep(300);
  expectNoLoss(await load.stop());
  // The master logs through the app's bunyan logger: one JSON record per line, on stdout.
  expect(app.output()).toMatch(/"name":"my-app".*"msg":"worker restartStep"/);

  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toBe(0);
  for (const pid of [...first, ...afterRequest, ...afterRestart]) {
    expect(await waitGone(pid, 4000)).toBe(true);
  }
}, 90_000);

it('pm2: app.js with ready() and lastcall.config.js run by lastcall start; reload and stop lose nothing', async () => {
  const port = await freePort();
  const env = cliEnv(path.join(makeTempDir(), 'run'), {
    PORT: String(port),
    LASTCALL_CRASH_LOG: path.join(makeTempDir(), 'crash.log'),
  });
  const cwd = path.join(EXAMPLES, 'pm2');
  const master = spawnCli(['start', 'app.js'], cwd, env);
  await waitServing(port, 30_000);

  const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
  const reload = await runCli(['reload', '--name', 'api'], cwd, env, 60_000);
  expect({ code: reload.code, stderr: reload.stderr }).toEqual({ code: 0, stderr: '' });
  expect(reload.stdout).toMatch(
    /^lastcall: reloaded 2 workers of api in [\d.]+ s \(\d+ → \d+, \d+ → \d+\)\n$/,
  );
  const status = await runCli(['status', '--name', 'api', '--json'], cwd, env);
  const workers = (JSON.parse(status.stdout) as { workers: { pid: number; state: string }[] })
    .workers;
  expect(workers.map((worker) => worker.state)).toEqual(['ready', 'ready']);
  await sleep(300);
  expectNoLoss(await load.stop());

  const stop = await runCli(['stop', '--name', 'api'], cwd, env);
  expect({ code: stop.code, stdout: stop.stdout }).toEqual({
    code: 0,
    stdout: expect.stringMatching(/^lastcall: stopped api \(master pid \d+\)\n$/) as unknown,
  });
  expect(await master.exited(20_000)).toBe(0);
  for (const { pid } of workers) expect(await waitGone(pid, 4000)).toBe(true);
}, 90_000);

/** The pid files in `dir`, by name, each with the pid it holds. */
function pidFiles(dir: string): Record<string, number> {
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .map((file) => [file, Number(fs.readFileSync(path.join(dir, file), 'utf8'))]),
  );
}

/** A POST without a body to the heartbeat, as a load balancer's operator sends it. */
async function post(port: number, urlPath: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${String(port)}${urlPath}`, { method: 'POST' });
  await response.arrayBuffer();
  return response.status;
}

it("cluster2: the README Express server answers cluster2's ECV, its disable and enable, a delegation, a SIGUSR2 restart and SIGTERM, with pid files in pidDir", async () => {
  const port = await freePort();
  const heartbeatPort = await freePort();
  const cwd = makeTempDir();
  const pidDir = path.join(cwd, 'pids');
  const app = startExample(
    'cluster2/express-server.js',
    {
      PORT: String(port),
      HEARTBEAT_PORT: String(heartbeatPort),
      LASTCALL_WORKERS: '2',
      LASTCALL_LOG_LEVEL: 'info',
    },
    cwd,
  );
  await waitUntil(
    'the master ready',
    () => /lastcall:master ready \{"workers":2\}/.test(app.output()),
    30_000,
  );
  const first = childPids(app.pid);
  expect(first).toHaveLength(2);
  // pids: the master's file and one per ready worker, named by slot.
  const firstFiles = pidFiles(pidDir);
  expect(Object.keys(firstFiles).sort()).toEqual([
    'lastcall-worker-0.pid',
    'lastcall-worker-1.pid',
    'lastcall.pid',
  ]);
  expect(firstFiles['lastcall.pid']).toBe(app.pid);
  expect([firstFiles['lastcall-worker-0.pid'], firstFiles['lastcall-worker-1.pid']].sort()).toEqual(
    first,
  );

  const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
  const available = new RegExp(
    `^status=AVAILABLE&ServeTraffic=true&ip=127\\.0\\.0\\.1&hostname=[^&]+&port=${String(port)}&time=.+$`,
  );
  expect(await get(heartbeatPort, '/ecv')).toEqual({
    status: 200,
    body: expect.stringMatching(available) as unknown,
  });
  expect(await post(heartbeatPort, '/ecv/disable')).toBe(204);
  expect(await get(heartbeatPort, '/ecv')).toEqual({
    status: 400,
    body: expect.stringMatching(/^status=DISABLED&ServeTraffic=false&ip=127\.0\.0\.1&/) as unknown,
  });
  expect(await post(heartbeatPort, '/ecv/enable')).toBe(204);
  expect(await get(heartbeatPort, '/ecv')).toEqual({
    status: 200,
    body: expect.stringMatching(available) as unknown,
  });

  // A raw cluster2 delegation from a worker, answered by master.handle() with the matched field.
  const config = await get(port, '/config');
  if (!('body' in config)) throw new Error(`no answer: ${config.error}`);
  expect({ status: config.status, body: JSON.parse(config.body) as unknown }).toEqual({
    status: 200,
    body: { value: 'settings of app', config: 'app', type: 'config-read' },
  });

  app.child.kill('SIGUSR2');
  const second = await waitReplaced(app.pid, first, 2, 30_000);
  await waitUntil(
    () => `pid files naming ${second.join(', ')}: ${JSON.stringify(pidFiles(pidDir))}`,
    () => {
      const files = pidFiles(pidDir);
      const workers = [files['lastcall-worker-0.pid'], files['lastcall-worker-1.pid']];
      return JSON.stringify(workers.sort()) === JSON.stringify(second);
    },
    5000,
  );
  await sleep(300);
  expectNoLoss(await load.stop());
  // The README's 'forked' and 'died' listeners, as fork and exit.
  for (const pid of first) {
    expect(app.output()).toContain(`Worker ${String(pid)} forked\n`);
    expect(app.output()).toContain(`Worker ${String(pid)} died\n`);
  }

  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toBe(0);
  expect(pidFiles(pidDir)).toEqual({});
  for (const pid of [...first, ...second]) expect(await waitGone(pid, 4000)).toBe(true);
}, 90_000);

/** The JSON records the supervisor's winston logger wrote, one per line; other lines left out. */
function winstonRecords(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

it('child_monitor: one child per port; a child failing its probe is replaced with growing backoff, the other untouched; child lines are winston records, once; SIGTERM exits 0', async () => {
  const portA = await freePort();
  const portB = await freePort();
  const cwd = makeTempDir();
  const app = startExample(
    'child_monitor/supervisor.js',
    { PORTS: `${String(portA)},${String(portB)}`, LASTCALL_LOG_LEVEL: 'info' },
    cwd,
  );
  await waitUntil('the supervisor ready', () => /"message":"ready"/.test(app.output()), 30_000);
  const pidOn = async (port: number): Promise<number> => {
    const answer = await get(port, '/');
    if (!('body' in answer)) throw new Error(`port ${String(port)}: ${answer.error}`);
    const match = new RegExp(`^child (\\d+) on ${String(port)}\\n$`).exec(answer.body);
    if (match === null) throw new Error(`port ${String(port)} answered ${answer.body}`);
    return Number(match[1]);
  };
  const childA = await pidOn(portA);
  const childB = await pidOn(portB);
  expect(childPids(app.pid)).toEqual([childA, childB].sort());

  // The child on portB fails its probe until the file is gone: each of its replacements fails too.
  const sick = path.join(cwd, `sick-${String(portB)}`);
  fs.writeFileSync(sick, '');
  const backoffDelays = (): number[] =>
    winstonRecords(app.output())
      .filter((record) => String(record['message']).includes('of backoff'))
      .map((record) => {
        expect(record).toMatchObject({ slot: 1, level: 'info' });
        return record['delay'] as number;
      });
  await waitUntil(
    () => `two backoff waits of slot 1 (now ${JSON.stringify(backoffDelays())})`,
    () => backoffDelays().length >= 2 && !childPids(app.pid).includes(childB),
    30_000,
  );
  fs.rmSync(sick);
  const delays = backoffDelays();
  // backoff { initial: 500, factor: 2, jitter: 0.2 }: each quick failure waits longer.
  expect(delays[0]).toBeGreaterThanOrEqual(400);
  expect(delays[1]).toBeGreaterThan(delays[0] ?? Infinity);
  expect(await pidOn(portA)).toBe(childA);
  expect(childPids(app.pid)).toContain(childA);
  expect(await pidOn(portB)).not.toBe(childB);

  app.child.kill('SIGTERM');
  expect(await app.exited(20_000)).toBe(0);
  // Every child's lines went through winston: one record each, never a raw line besides.
  const records = winstonRecords(app.output());
  const forks = records.filter((record) => record['message'] === 'worker fork');
  expect(forks.length).toBeGreaterThanOrEqual(3); // A, B and at least one replacement of B
  for (const fork of forks) {
    const pid = fork['pid'] as number;
    const port = fork['slot'] === 0 ? portA : portB;
    expect(app.output().split(`child ${String(pid)} listening on`)).toHaveLength(2);
    expect(app.output().split(`child ${String(pid)} warns on stderr`)).toHaveLength(2);
    expect(
      records.filter((record) => String(record['message']).startsWith(`child ${String(pid)} `)),
    ).toEqual([
      expect.objectContaining({
        level: 'info',
        message: `child ${String(pid)} listening on ${String(port)}`,
        slot: fork['slot'],
        pid,
        stream: 'stdout',
      }),
      expect.objectContaining({
        level: 'warn',
        message: `child ${String(pid)} warns on stderr`,
        slot: fork['slot'],
        pid,
        stream: 'stderr',
      }),
    ]);
    expect(await waitGone(pid, 4000)).toBe(true);
  }
  expect(app.output()).not.toMatch(/^child /m);
}, 90_000);

/**
 * A single process cannot take new connections once its listener is closed, so the load runs on
 * keep-alive connections opened before the shutdown and sends nothing new once it begins; what
 * is checked is that every request already sent, and a slow one in flight, is answered.
 */
async function shutDownUnderLoad(
  file: string,
  {
    loadPath = '/',
    trigger,
  }: { loadPath?: string; trigger?: (port: number) => Promise<unknown> } = {},
): Promise<{ app: Example; triggered: unknown }> {
  const port = await freePort();
  const app = startExample(file, { PORT: String(port) });
  await waitServing(port, 20_000, loadPath);
  const load = startLoad(port, { keepAlive: 4, fresh: 0, path: loadPath });
  await sleep(500);
  const slow = get(port, '/slow?ms=1500');
  await sleep(300);
  const stopped = load.stop();
  let triggered: unknown;
  if (trigger === undefined) app.child.kill('SIGTERM');
  else triggered = await trigger(port);
  expect(await slow).toEqual({ status: 200, body: expect.any(String) as unknown });
  expectNoLoss(await stopped);
  expect(await app.exited(15_000)).toBe(0);
  return { app, triggered };
}

it('http-terminator: createTerminator(server, { timeout }).terminate() on SIGTERM answers every request sent and exits 0', async () => {
  await shutDownUnderLoad('http-terminator-stoppable/http-terminator.js');
});

it('stoppable: terminate() in place of server.stop() answers every request sent and reports a graceful stop', async () => {
  const { app } = await shutDownUnderLoad('http-terminator-stoppable/stoppable.js');
  expect(app.output()).toBe('stopped gracefully\n');
});

it('http-shutdown: withShutdown(server).shutdown(cb) answers every request sent and calls back', async () => {
  const { app } = await shutDownUnderLoad('http-shutdown/http-shutdown.js');
  expect(app.output()).toBe('Everything is cleanly shutdown.\n');
});

it('server-destroy: withShutdown(server) and shutdown() in place of destroy() answer every request sent', async () => {
  await shutDownUnderLoad('http-shutdown/server-destroy.js');
});

it('killable: shutdown(cb) in place of kill(cb) from a route answers that route and every request in flight', async () => {
  const { triggered } = await shutDownUnderLoad('http-shutdown/killable.js', {
    loadPath: '/slow?ms=5',
    trigger: (port) => get(port, '/'),
  });
  expect(triggered).toEqual({ status: 200, body: 'Server is going down NOW!' });
});

it('http-shutdown extend(): http.createServer(app).withShutdown() after withShutdown.extend() answers every request sent and calls back', async () => {
  const { app } = await shutDownUnderLoad('http-shutdown/http-shutdown-extend.js');
  expect(app.output()).toBe('Everything is cleanly shutdown.\n');
});
