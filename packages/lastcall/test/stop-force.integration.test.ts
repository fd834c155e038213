/**
 * Issue 18, `lastcall stop --force`: the immediate stop. Each worker of the master's
 * test/fixtures/orphan-worker.js starts `sleep 1000` in its process group and answers /hang
 * never; `stop --force` must return within a bounded short time with every worker, every sleep
 * and the master gone, also when a graceful stop is under way. The graceful stop is unchanged: a
 * request in flight completes.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { cliEnv, freePort, killClis, makeTempDir, runCli, spawnCli } from './cli-support';
import type { CliProcess } from './cli-support';

/** The master's worker that starts a child of its own (its orphan tests run it too). */
const WORKER = path.join(__dirname, '..', '..', 'master', 'test', 'fixtures', 'orphan-worker.js');

/** ms for a process to be gone once it was killed (4x and more). */
const GONE_WITHIN = 5000;

/** ms a forced stop may take, from the command to its exit (the graceful one would take 60 s). */
const FORCE_WITHIN = 10_000;

/** Workers and sleeps the tests saw, killed (each worker's whole group) in `afterEach`. */
const seen = new Set<number>();

afterEach(() => {
  killClis();
  for (const pid of seen) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
  seen.clear();
});

/** Fields of /proc/<pid>/stat, or undefined when there is no such process. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${String(pid)}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** A zombie counts as dead: an orphan reparented to PID 1 in a container may never be reaped. */
function isDead(pid: number): boolean {
  const state = stateOf(pid);
  return state === undefined || state === 'Z' || state === 'X';
}

async function survivorsAfter(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !pids.every(isDead)) await pause(25);
  return pids.filter((pid) => !isDead(pid));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Shop {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly master: CliProcess;
  readonly port: number;
  readonly workers: readonly number[];
  readonly sleepers: readonly number[];
}

/** `lastcall start` of two workers named shop, drainTimeout 60 s; resolves once all serve. */
async function startShop(): Promise<Shop> {
  const cwd = makeTempDir();
  const orphanDir = makeTempDir();
  const env = cliEnv(path.join(makeTempDir(), 'run'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(cwd, 'lastcall.config.json'),
    JSON.stringify({ drainTimeout: 60_000, killTimeout: 5000, readyTimeout: 20_000 }),
  );
  const master = spawnCli(
    [
      'start',
      WORKER,
      '--name',
      'shop',
      '--workers',
      '2',
      '--env',
      `PORT=${String(port)}`,
      '--env',
      `ORPHAN_DIR=${orphanDir}`,
    ],
    cwd,
    env,
  );
  await master.waitForLine(/shop is running 2 workers/, 30_000);
  const status = await runCli(['status', '--json', '--name', 'shop'], cwd, env);
  expect(status.code).toBe(0);
  const workers = (JSON.parse(status.stdout) as { workers: { pid: number }[] }).workers.map(
    (worker) => worker.pid,
  );
  expect(workers).toHaveLength(2);
  for (const pid of workers) seen.add(pid);
  const sleepers = workers.map((pid) =>
    Number(fs.readFileSync(path.join(orphanDir, String(pid)), 'utf8')),
  );
  for (const pid of sleepers) seen.add(pid);
  expect(sleepers.every((pid) => stateOf(pid) !== undefined && !isDead(pid))).toBe(true);
  return { cwd, env, master, port, workers, sleepers };
}

/** A GET that ends with its status and body, or the error's code. */
function request(
  port: number,
  urlPath: string,
): { started: Promise<void>; done: Promise<{ status: number; body: string } | { error: string }> } {
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  const done = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        onStarted();
      });
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on('error', (error: NodeJS.ErrnoException) => {
        resolve({ error: error.code ?? error.message });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve({ error: error.code ?? error.message });
    });
    // /slow answers only at its end: it has started once the request is written.
    req.on('finish', () => {
      if (urlPath.startsWith('/slow')) setTimeout(onStarted, 200);
    });
  });
  return { started, done };
}

it('stop --force kills every worker and its child at once, cuts the request in flight, and the master exits 0', async () => {
  const shop = await startShop();
  const hanging = request(shop.port, '/hang');
  await hanging.started;
  const startedAt = Date.now();
  const stopped = await runCli(
    ['stop', '--force', '--name', 'shop'],
    shop.cwd,
    shop.env,
    FORCE_WITHIN,
  );
  expect(Date.now() - startedAt).toBeLessThan(FORCE_WITHIN);
  expect(stopped.stderr).toBe('');
  expect(stopped.code).toBe(0);
  const masterPid = String(shop.master.child.pid);
  expect(stopped.stdout.trim()).toBe(
    `lastcall: force-stopped shop (master pid ${masterPid}): SIGKILL to 2 workers and their children (pids ${shop.workers.join(', ')}), no drain`,
  );
  expect(await shop.master.exited(GONE_WITHIN)).toBe(0);
  expect(await survivorsAfter([...shop.workers, ...shop.sleepers], GONE_WITHIN)).toEqual([]);
  const cut = await hanging.done;
  expect('error' in cut).toBe(true);
}, 90_000);

it('stop --force escalates a graceful stop that waits on a request in flight', async () => {
  const shop = await startShop();
  const hanging = request(shop.port, '/hang');
  await hanging.started;
  const graceful = spawnCli(['stop', '--name', 'shop'], shop.cwd, shop.env);
  // The graceful stop is under way: the workers drain, and the one with /hang waits 60 s.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await runCli(['status', '--json', '--name', 'shop'], shop.cwd, shop.env);
    const states = (
      JSON.parse(status.stdout || '{"workers":[]}') as {
        workers: { state: string }[];
      }
    ).workers.map((worker) => worker.state);
    if (states.includes('draining')) break;
    if (Date.now() > deadline) throw new Error(`no worker drains: ${status.stdout}`);
    await pause(100);
  }
  expect(shop.master.child.exitCode).toBeNull();
  const startedAt = Date.now();
  const forced = await runCli(
    ['stop', '--force', '--name', 'shop'],
    shop.cwd,
    shop.env,
    FORCE_WITHIN,
  );
  expect(Date.now() - startedAt).toBeLessThan(FORCE_WITHIN);
  expect(forced.code).toBe(0);
  expect(forced.stdout).toMatch(/^lastcall: force-stopped shop \(master pid \d+\): SIGKILL to /);
  expect(await shop.master.exited(GONE_WITHIN)).toBe(0);
  expect(await graceful.exited(GONE_WITHIN)).toBe(0);
  expect(graceful.stdout().trim()).toBe(
    `lastcall: stopped shop (master pid ${String(shop.master.child.pid)})`,
  );
  expect(await survivorsAfter([...shop.workers, ...shop.sleepers], GONE_WITHIN)).toEqual([]);
  expect('error' in (await hanging.done)).toBe(true);
}, 90_000);

it('the graceful stop still lets the request in flight complete', async () => {
  const shop = await startShop();
  const slow = request(shop.port, '/slow?ms=1500');
  await slow.started;
  const stopped = await runCli(['stop', '--name', 'shop'], shop.cwd, shop.env, 60_000);
  expect(stopped.code).toBe(0);
  expect(stopped.stdout.trim()).toBe(
    `lastcall: stopped shop (master pid ${String(shop.master.child.pid)})`,
  );
  expect(await slow.done).toEqual({ status: 200, body: 'slow done' });
  expect(await shop.master.exited(GONE_WITHIN)).toBe(0);
  expect(await survivorsAfter([...shop.workers, ...shop.sleepers], GONE_WITHIN)).toEqual([]);
}, 120_000);

it("start --pid-dir writes the master's and every worker's pid file there, and stop --pid-dir finds it", async () => {
  const cwd = makeTempDir();
  const orphanDir = makeTempDir();
  const pidDir = path.join(makeTempDir(), 'pids');
  const env = cliEnv(path.join(makeTempDir(), 'run'));
  const port = await freePort();
  const master = spawnCli(
    [
      'start',
      WORKER,
      '--name',
      '@acme/shop',
      '--workers',
      '2',
      '--pid-dir',
      pidDir,
      '--env',
      `PORT=${String(port)}`,
      '--env',
      `ORPHAN_DIR=${orphanDir}`,
    ],
    cwd,
    env,
  );
  await master.waitForLine(/is running 2 workers/, 30_000);
  const status = await runCli(
    ['status', '--json', '--name', '@acme/shop', '--pid-dir', pidDir],
    cwd,
    env,
  );
  expect(status.code).toBe(0);
  const workers = (JSON.parse(status.stdout) as { workers: { slot: number; pid: number }[] })
    .workers;
  for (const { pid } of workers) seen.add(pid);
  expect(fs.readdirSync(pidDir).sort()).toEqual([
    'acme-shop-worker-0.pid',
    'acme-shop-worker-1.pid',
    'acme-shop.pid',
  ]);
  expect(fs.readFileSync(path.join(pidDir, 'acme-shop.pid'), 'utf8')).toBe(
    `${String(master.child.pid)}\n`,
  );
  for (const { slot, pid } of workers) {
    expect(fs.readFileSync(path.join(pidDir, `acme-shop-worker-${String(slot)}.pid`), 'utf8')).toBe(
      `${String(pid)}\n`,
    );
  }
  // Without --pid-dir, the master is looked for in the run folder, where it is not.
  const lost = await runCli(['stop', '--name', '@acme/shop'], cwd, env);
  expect(lost.code).toBe(5);
  const stopped = await runCli(['stop', '--name', '@acme/shop', '--pid-dir', pidDir], cwd, env);
  expect(stopped.code).toBe(0);
  expect(await master.exited(GONE_WITHIN)).toBe(0);
  expect(fs.readdirSync(pidDir)).toEqual([]);
}, 90_000);
