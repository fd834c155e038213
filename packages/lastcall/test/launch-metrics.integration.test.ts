/**
 * Launch metrics from real child processes that load the built module (dist/launch-metrics.js)
 * and exit the moment countLaunch() resolves: the datagram must already be on its way.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listenUdp } from '../../last-ditch/test/udp-listener';

const packageDir = path.resolve(__dirname, '..');
const builtModule = path.join(packageDir, 'dist', 'launch-metrics.js');
const fixture = path.join(__dirname, 'fixtures', 'launch-worker.js');

const children = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

beforeAll(() => {
  if (!fs.existsSync(builtModule)) {
    throw new Error(`${builtModule} is missing: build first (npm run build)`);
  }
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` with the scenario; only PATH and `env` are passed; killed after 10 s. */
function runChild(
  script: string,
  scenario: object,
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [script], {
    cwd: options.cwd ?? os.tmpdir(),
    env: {
      PATH: process.env['PATH'],
      ...options.env,
      LAUNCH_FIXTURE: JSON.stringify(scenario),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within 10 s: ${Buffer.concat(stderr).toString()}`));
    }, 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** A fresh folder under the OS temp dir, removed in `afterEach`. */
function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-launch-'));
  cleanups.push(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * An app folder outside the repository with the fixture as its main script, `manifest` as its
 * package.json and, when `install` is set, lastcall's built launch metrics, last-ditch and
 * log-shim in its node_modules, but no statsd-client anywhere above it. Returns the folder,
 * the fixture and the module the fixture should load.
 */
function makeAppDir(
  manifest: object,
  install: boolean,
): { dir: string; script: string; module: string } {
  const dir = makeTempDir();
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
  const script = path.join(dir, 'launch-worker.js');
  fs.copyFileSync(fixture, script);
  if (!install) return { dir, script, module: builtModule };
  const modules = path.join(dir, 'node_modules');
  for (const name of ['log-shim', 'last-ditch']) {
    const from = path.resolve(packageDir, '..', name);
    const to = path.join(modules, '@lastcall', name);
    fs.mkdirSync(to, { recursive: true });
    fs.copyFileSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
    fs.cpSync(path.join(from, 'dist'), path.join(to, 'dist'), { recursive: true });
  }
  const dist = path.join(modules, 'lastcall', 'dist');
  fs.mkdirSync(dist, { recursive: true });
  for (const file of ['launch-metrics.js', 'errors.js']) {
    fs.copyFileSync(path.join(packageDir, 'dist', file), path.join(dist, file));
  }
  return { dir, script, module: path.join(dist, 'launch-metrics.js') };
}

function resolvedLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line === '{"event":"resolved"}');
}

describe('countLaunch() in a child that exits as soon as it resolves', () => {
  it("delivers '<app>.launches.worker:1|c' to LASTCALL_STATSD", async () => {
    const listener = await listenUdp(cleanups);
    const run = await runChild(
      fixture,
      { module: builtModule },
      { env: { LASTCALL_STATSD: listener.address, LASTCALL_APP_NAME: 'shop' } },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(resolvedLines(run.stdout)).toHaveLength(1);
    expect(await listener.firstPackets(1)).toEqual(['shop.launches.worker:1|c']);
  });

  it.each(['statsd-client', 'hot-shots'])(
    "delivers through the app's own %s instance",
    async (kind) => {
      const listener = await listenUdp(cleanups);
      const run = await runChild(
        fixture,
        { module: builtModule, client: { kind, port: listener.port, prefix: 'eu.' } },
        { env: { LASTCALL_APP_NAME: 'shop' } },
      );
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(await listener.firstPackets(1)).toEqual(['eu.shop.launches.worker:1|c']);
    },
  );

  it("names the app from its package.json, with statsd's special characters replaced", async () => {
    const listener = await listenUdp(cleanups);
    const app = makeAppDir({ name: '@shop/api v2' }, false);
    const run = await runChild(
      app.script,
      { module: app.module },
      { env: { LASTCALL_STATSD: listener.address }, cwd: app.dir },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(await listener.firstPackets(1)).toEqual(['shop_api_v2.launches.worker:1|c']);
  });

  it('resolves and logs one warning to stderr when statsd-client is not installed', async () => {
    const listener = await listenUdp(cleanups);
    const app = makeAppDir({ name: 'shop' }, true);
    const run = await runChild(
      app.script,
      { module: app.module },
      // HOME too: require() also looks in ~/.node_modules and ~/.node_libraries.
      { env: { LASTCALL_STATSD: listener.address, HOME: app.dir }, cwd: app.dir },
    );
    expect(run.code).toBe(0);
    expect(resolvedLines(run.stdout)).toHaveLength(1);
    const warnings = run.stderr.split('\n').filter((line) => line !== '');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ WARN .*could not count the launch/);
    expect(warnings[0]).toContain('"code":"LASTCALL_ERR_LAST_DITCH_STATSD_MISSING"');
    expect(warnings[0]).toContain('"metric":"shop.launches.worker"');
  });
});
