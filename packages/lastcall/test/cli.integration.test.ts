/**
 * The `lastcall` command end to end: the built bin in child processes, a real HTTP app in its
 * workers, real load, real signals and a real UDP socket for the launch counters.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { get, sleep, startLoad, waitGone } from '../../master/test/support';
import {
  WORKER_APP,
  cliEnv,
  freePort,
  isBindable,
  killClis,
  makeTempDir,
  runCli,
  spawnCli,
} from './cli-support';
import type { CliProcess } from './cli-support';

afterEach(killClis);

interface Cluster {
  readonly cli: CliProcess;
  readonly port: number;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly buildFile: string;
}

interface StatusJson {
  master: { pid: number; name: string };
  workers: { slot: number; pid: number; state: string }[];
}

/** `lastcall start` of the worker app with 2 workers, once it says it is running. */
async function startCluster(
  extraEnv: NodeJS.ProcessEnv = {},
  args: string[] = [],
): Promise<Cluster> {
  const cwd = makeTempDir();
  const buildFile = path.join(cwd, 'build');
  fs.writeFileSync(buildFile, 'good');
  const port = await freePort();
  const env = cliEnv(path.join(cwd, 'run'), extraEnv);
  const cli = spawnCli(
    [
      'start',
      WORKER_APP,
      '--workers',
      '2',
      '--name',
      'e2e',
      '--env',
      `PORT=${String(port)}`,
      '--env',
      `BUILD_FILE=${buildFile}`,
      ...args,
    ],
    cwd,
    env,
  );
  await cli.waitForLine(/^lastcall: e2e is running 2 workers/, 20_000);
  return { cli, port, cwd, env, buildFile };
}

async function status(cluster: Cluster): Promise<StatusJson> {
  const result = await runCli(['status', '--name', 'e2e', '--json'], cluster.cwd, cluster.env);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout) as StatusJson;
}

/** The pids answering `/pid`, asked on new connections until both workers were seen. */
async function answeringPids(port: number, wanted: number): Promise<Set<string>> {
  const pids = new Set<string>();
  for (let attempt = 0; attempt < 200 && pids.size < wanted; attempt += 1) {
    const answer = await get(port, '/pid');
    if ('status' in answer && answer.status === 200) pids.add(answer.body);
  }
  return pids;
}

describe('lastcall start, reload, status and stop', () => {
  it('serves with 2 workers, reloads under load with zero failed requests, and stops with exit 0', async () => {
    const cluster = await startCluster();
    const before = await status(cluster);
    expect(before.workers).toHaveLength(2);
    expect(before.workers.every((worker) => worker.state === 'ready')).toBe(true);
    const oldPids = before.workers.map((worker) => String(worker.pid)).sort();
    expect([...(await answeringPids(cluster.port, 2))].sort()).toEqual(oldPids);

    const load = startLoad(cluster.port, { keepAlive: 8, fresh: 2 });
    const reload = await runCli(['reload', '--name', 'e2e'], cluster.cwd, cluster.env, 60_000);
    const tally = await load.stop();
    expect(reload).toMatchObject({ code: 0, stderr: '' });
    expect(reload.stdout).toMatch(/^lastcall: reloaded 2 workers of e2e in [\d.]+ s/);
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(tally.ok).toBeGreaterThan(100);

    const after = await status(cluster);
    const newPids = after.workers.map((worker) => String(worker.pid));
    expect(newPids).toHaveLength(2);
    for (const pid of newPids) expect(oldPids).not.toContain(pid);
    // The load saw both generations: the old workers served until their replacements did.
    for (const pid of [...oldPids, ...newPids]) expect(tally.pids).toContain(pid);

    const stop = await runCli(['stop', '--name', 'e2e'], cluster.cwd, cluster.env, 60_000);
    expect(stop).toMatchObject({ code: 0, stderr: '' });
    expect(stop.stdout).toMatch(/^lastcall: stopped e2e/);
    expect(await cluster.cli.exited(10_000)).toBe(0);
    expect(await isBindable(cluster.port)).toBe(true);
    for (const pid of [...oldPids, ...newPids])
      expect(await waitGone(Number(pid), 4000)).toBe(true);
    expect(fs.readdirSync(path.join(cluster.cwd, 'run'))).toEqual([]);
    expect((await runCli(['status', '--name', 'e2e'], cluster.cwd, cluster.env)).code).toBe(5);
  });

  it('exits 6 on a reload of a broken build, with the exit code and stderr, and the old workers serve on', async () => {
    const cluster = await startCluster();
    const oldPids = (await status(cluster)).workers.map((worker) => String(worker.pid)).sort();
    fs.writeFileSync(cluster.buildFile, 'crash-at-start');
    const load = startLoad(cluster.port, { keepAlive: 4, fresh: 1 });
    const reload = await runCli(['reload', '--name', 'e2e'], cluster.cwd, cluster.env, 60_000);
    const tally = await load.stop();
    expect(reload.code).toBe(6);
    expect(reload.stderr).toMatch(/^lastcall: reload: rolling restart aborted/);
    expect(reload.stderr).toContain('code 3');
    expect(reload.stderr).toContain("cannot find module './missing-from-this-build'");
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect((await status(cluster)).workers.map((worker) => String(worker.pid)).sort()).toEqual(
      oldPids,
    );
    expect([...(await answeringPids(cluster.port, 2))].sort()).toEqual(oldPids);
  });

  it('refuses a second start under the same name with exit 8', async () => {
    const cluster = await startCluster();
    const second = await runCli(['start', WORKER_APP, '--name', 'e2e'], cluster.cwd, cluster.env);
    expect(second.code).toBe(8);
    expect(second.stderr).toMatch(/^lastcall: a master of "e2e" is running already \(pid \d+/);
    // The first one is untouched.
    expect((await status(cluster)).workers).toHaveLength(2);
  });
});

describe('lastcall start, then SIGTERM under load', () => {
  it('answers every request it accepted: the others are refused, none is reset', async () => {
    const cwd = makeTempDir();
    const port = await freePort();
    const env = cliEnv(path.join(cwd, 'run'));
    const cli = spawnCli(
      ['start', WORKER_APP, '--workers', '2', '--name', 'sigterm', '--env', `PORT=${String(port)}`],
      cwd,
      env,
    );
    await cli.waitForLine(/is running 2 workers/, 20_000);
    const load = startLoad(port, { keepAlive: 16, fresh: 0, path: '/' });
    await sleep(1000);
    cli.child.kill('SIGTERM');
    expect(await cli.exited(15_000)).toBe(0);
    await sleep(200);
    const tally = await load.stop();
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.statuses).toEqual([]);
    // Refused: never accepted, the port had closed. A reset would be a request lost.
    expect(tally.errors.filter((error) => error !== 'ECONNREFUSED')).toEqual([]);
  });
});

describe('lastcall start failures', () => {
  it('exits 4 naming the port when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const cwd = makeTempDir();
      const startedAt = Date.now();
      const result = await runCli(
        ['start', WORKER_APP, '--workers', '2', '--env', `PORT=${String(port)}`],
        cwd,
        cliEnv(path.join(cwd, 'run')),
      );
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(new RegExp(`^lastcall: .*${String(port)}`, 'm'));
      expect(result.stderr).toMatch(/address already in use|EADDRINUSE/i);
      // Within 2 s on this machine; the margin is 4×.
      expect(Date.now() - startedAt).toBeLessThan(8000);
    } finally {
      blocker.close();
    }
  });

  it('exits 3 for a missing script, and 2 with the usage for a wrong flag', async () => {
    const cwd = makeTempDir();
    const env = cliEnv(path.join(cwd, 'run'));
    const missing = await runCli(['start', 'no-such-app.js'], cwd, env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(
      `lastcall: script not found: ${path.join(fs.realpathSync(cwd), 'no-such-app.js')}\n`,
    );
    const wrong = await runCli(['start', WORKER_APP, '--wokers', '2'], cwd, env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("Unknown option '--wokers'");
    expect(wrong.stderr).toContain('Usage: lastcall start <script>');
  });
});

describe('launch counters', () => {
  it('counts the master and each worker on a real UDP socket', async () => {
    const socket = dgram.createSocket('udp4');
    const packets: string[] = [];
    socket.on('message', (message) => packets.push(message.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const { port } = socket.address();
      await startCluster({ LASTCALL_STATSD: `127.0.0.1:${String(port)}` });
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && packets.length < 3)
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect(packets.sort()).toEqual([
        'e2e.launches.master:1|c',
        'e2e.launches.worker:1|c',
        'e2e.launches.worker:1|c',
      ]);
    } finally {
      socket.close();
    }
  });
});
