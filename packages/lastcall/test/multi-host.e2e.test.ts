/**
 * lastcall across hosts behind a real HAProxy 2.6 (issue 19, scenarios a, b, d and e): two hosts
 * (network namespaces) each run `lastcall start app.js --workers 2` with a heartbeat HAProxy
 * checks (`GET /readyz`, inter 500 fall 2 rise 2), and a keep-alive client (undici, no retries,
 * POSTs) sends load through HAProxy the whole time. Each scenario counts every failed request the
 * client saw and prints one summary line; docs/deploying.md quotes the figures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHaproxy } from './multi-host/balancers';
import type { Haproxy } from './multi-host/balancers';
import { runDeploy } from './multi-host/deploy';
import {
  EXAMPLE_DIR,
  FIRST_VERSION,
  RECOMMENDED,
  appHeaders,
  heartbeat,
  restartHost,
  status,
  waitUntilEmpty,
  workerPids,
} from './multi-host/hosts';
import type { HostApp, StartOptions } from './multi-host/hosts';
import { createLab, pidsIn } from './multi-host/lab';
import type { Lab } from './multi-host/lab';
import { STEADY, createLoadSlot, summarize } from './multi-host/load';
import type { LoadReport } from './multi-host/load';
import { runIn, sleep } from './multi-host/processes';
import { reloadUnderLoad, removeLab, startHostApps } from './multi-host/scenarios';

const DOC_FILE = path.join(__dirname, '..', '..', '..', 'docs', 'deploying.md');

let lab: Lab | undefined;
let haproxy: Haproxy;
let apps: HostApp[];
const load = createLoadSlot();

function say(line: string): void {
  process.stdout.write(`[e2e haproxy] ${line}\n`);
}

function appOf(name: string): HostApp {
  const app = apps.find((candidate) => candidate.host.name === name);
  if (app === undefined) throw new Error(`no host ${name}`);
  return app;
}

/**
 * Each scenario starts from the same place: both masters running (a host a scenario stopped is
 * started again, with `options`), a good build on disk, and both hosts in HAProxy's rotation.
 */
async function everyHostServing(options: StartOptions = RECOMMENDED): Promise<void> {
  for (const app of apps) {
    if (!app.isRunning()) {
      app.setRelease(FIRST_VERSION);
      await app.start(options);
    }
  }
  for (const app of apps) await haproxy.waitForState(app.host.name, 'up', 20_000);
}

/** Sets the host's side of its veth pair down (it vanishes from the network) or up again. */
async function linkState(app: HostApp, state: 'up' | 'down'): Promise<void> {
  const result = await runIn(
    undefined,
    'ip',
    ['-n', app.host.netns, 'link', 'set', 'eth0', state],
    {
      env: { PATH: process.env['PATH'] },
    },
  );
  if (result.code !== 0) throw new Error(`ip link set eth0 ${state}: ${result.stderr}`);
}

describe('docs/deploying.md', () => {
  it('shows the HAProxy and nginx configurations these tests run, as they are', () => {
    const doc = fs.readFileSync(DOC_FILE, 'utf8');
    const haproxyCfg = fs.readFileSync(path.join(EXAMPLE_DIR, 'haproxy.cfg'), 'utf8');
    expect(doc).toContain(`\`\`\`haproxy\n${haproxyCfg}\`\`\``);
    const nginxTemplate = fs.readFileSync(path.join(EXAMPLE_DIR, 'nginx.conf.template'), 'utf8');
    expect(doc).toContain(`\`\`\`nginx\n${nginxTemplate}\`\`\``);
  });

  it('recommends HAProxy checks that take a host out well within the default shutdownDelay of 3 s', () => {
    const haproxyCfg = fs.readFileSync(path.join(EXAMPLE_DIR, 'haproxy.cfg'), 'utf8');
    const checks = /default-server check .* inter (\d+) fall (\d+) rise (\d+)/.exec(haproxyCfg);
    const checkTimeout = /timeout check (\d+)ms/.exec(haproxyCfg);
    expect(checks).not.toBeNull();
    expect(checkTimeout).not.toBeNull();
    // The worst case: a check just missed (one interval), `fall` failing checks, the last one
    // waiting its full timeout.
    const worstCaseMs = Number(checks?.[1]) * Number(checks?.[2]) + Number(checkTimeout?.[1]);
    expect(worstCaseMs * 2).toBeLessThanOrEqual(3000);
  });
});

describe('behind HAProxy, two hosts with 2 workers each', () => {
  beforeAll(async () => {
    lab = createLab(['a', 'b']);
    apps = await startHostApps(lab);
    haproxy = await startHaproxy(lab);
    await everyHostServing();
  }, 90_000);

  afterEach(() => load.stopIfRunning());

  afterAll(() => {
    removeLab(lab);
  });

  it('(a) deploys host by host (disable, out, reload, enable, in) with 0 failed requests and the new version live', async () => {
    await everyHostServing();
    const before = (await heartbeat(lab!, appOf('a'), '/readyz')).body?.['version'];
    const next = `2.${String(Date.now() % 1000)}.0`;
    expect(before).not.toBe(next);
    await load.start(lab!, haproxy.url, STEADY);
    await sleep(500);
    for (const app of apps) app.setRelease(next);
    const deploy = await runDeploy(lab!, apps, { haproxy, expectVersion: next });
    await sleep(500);
    const report = await load.stop();
    say(`(a) rolling deploy: deploy exit ${String(deploy.code)}; ${summarize(report)}`);

    expect(deploy).toMatchObject({ code: 0, stderr: '' });
    expect(deploy.stdout).toMatch(/^deploy: a: out of rotation/m);
    expect(deploy.stdout).toMatch(/^deploy: b: back in rotation with version /m);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    // Both hosts served, old version then new.
    expect(report.backends['a']?.count).toBeGreaterThan(0);
    expect(report.backends['b']?.count).toBeGreaterThan(0);
    expect(Object.keys(report.versions).sort()).toEqual([String(before), next].sort());
    for (const app of apps) {
      const answer = await heartbeat(lab!, app, '/readyz');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'ok', version: next, versions: { [next]: 2 } });
      expect((await status(app)).master.disabled).toBe(false);
    }
    expect(await haproxy.serverStates()).toEqual({ a: 'up', b: 'up' });
  }, 150_000);

  it('(b) stops a deploy whose new build crashes on host A: exit 1, A back in rotation with its old workers, B untouched', async () => {
    await everyHostServing();
    const oldVersion = (await heartbeat(lab!, appOf('a'), '/readyz')).body?.['version'];
    const pidsBefore = await Promise.all(apps.map(async (app) => (await workerPids(app)).sort()));
    await load.start(lab!, haproxy.url, STEADY);
    await sleep(500);
    for (const app of apps) app.setRelease('9.9.9-broken', { isBroken: true });
    const deploy = await runDeploy(lab!, apps, { haproxy, expectVersion: '9.9.9-broken' });
    await sleep(500);
    const report = await load.stop();
    say(`(b) bad build on host a: deploy exit ${String(deploy.code)}; ${summarize(report)}`);
    // The build on disk is repaired for the scenarios after this one.
    for (const app of apps) app.setRelease(String(oldVersion));

    expect(deploy.code).toBe(1);
    expect(deploy.stdout).toMatch(/^deploy: a: lastcall reload exited 6: /m);
    expect(deploy.stdout).toMatch(/^deploy: a: back in rotation, serving version /m);
    expect(deploy.stdout).not.toMatch(/^deploy: b: /m);
    expect(deploy.stderr).toMatch(/^deploy: a: reload failed \(exit 6\); deploy stopped/m);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(Object.keys(report.versions)).toEqual([String(oldVersion)]);
    expect(await haproxy.serverStates()).toEqual({ a: 'up', b: 'up' });
    for (const [index, app] of apps.entries()) {
      const answer = await heartbeat(lab!, app, '/readyz');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'ok', version: oldVersion });
      const after = await status(app);
      expect(after.master.disabled).toBe(false);
      expect(after.workers.map((worker) => worker.pid).sort()).toEqual(pidsBefore[index]);
    }
  }, 150_000);

  it("(c) reloads host B without disabling it first, behind HAProxy's server-side keep-alive (http-reuse), with 0 failed requests", async () => {
    await everyHostServing();
    const b = appOf('b');
    const { pidsBefore, reload, report } = await reloadUnderLoad(lab!, b, haproxy.url, load);
    say(`(c) reload without disable: reload exit ${String(reload.code)}; ${summarize(report)}`);

    expect(reload).toMatchObject({ code: 0, stderr: '' });
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    const pidsAfter = await workerPids(b);
    for (const pid of pidsAfter) expect(pidsBefore).not.toContain(pid);
    // Host B served throughout: its old workers, then the new ones.
    expect([...(report.pids['b'] ?? [])].sort()).toEqual([...pidsBefore, ...pidsAfter].sort());
  }, 120_000);

  /**
   * SIGTERM to host A's master, with no disable first: its heartbeat says 503 at once, its
   * workers serve on with `Connection: close` for shutdownDelay while HAProxy's checks take it
   * out, then they drain and the master exits 0.
   */
  async function sigtermUnderLoad(label: string, startOptions: StartOptions) {
    const a = appOf('a');
    if (startOptions !== RECOMMENDED) await restartHost(a, startOptions);
    await everyHostServing();
    await load.start(lab!, haproxy.url, STEADY);
    await sleep(500);
    const signalled = Date.now();
    a.master().kill('SIGTERM');
    const during = await heartbeat(lab!, a, '/readyz');
    const alive = await heartbeat(lab!, a, '/livez');
    const headers = await appHeaders(lab!, a);
    const outOfRotation = haproxy.waitForState('a', 'down', 30_000).then(() => Date.now());
    const code = await a.master().exited(30_000);
    const exitedAfter = Date.now() - signalled;
    const outAfter = (await outOfRotation) - signalled;
    await sleep(500);
    const report = await load.stop();
    say(
      `(d) SIGTERM, ${label}: HAProxy out after ${String(outAfter)} ms, master exit ${String(code)} after ${String(exitedAfter)} ms; ${summarize(report)}`,
    );
    // Nothing of host A is left running.
    await waitUntilEmpty(a, 10_000);
    return { during, alive, headers, code, exitedAfter, report };
  }

  /** {@link RECOMMENDED} with `--shutdown-delay <ms>` after its flags. */
  function recommendedWithShutdownDelay(ms: number): StartOptions {
    return { ...RECOMMENDED, args: [...(RECOMMENDED.args ?? []), '--shutdown-delay', String(ms)] };
  }

  function expectNothingLost(
    outcome: Awaited<ReturnType<typeof sigtermUnderLoad>>,
    shutdownDelay: number,
  ): void {
    const { during, alive, headers, code, exitedAfter, report } = outcome;
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ status: 'shutting-down' });
    expect(alive.status).toBe(200);
    // Still served during the delay, and told to go elsewhere for the next request.
    expect(headers['connection']).toBe('close');
    expect(code).toBe(0);
    expect(exitedAfter).toBeGreaterThanOrEqual(shutdownDelay);
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.backends['a']?.count).toBeGreaterThan(0);
  }

  it('(d) loses nothing on a plain SIGTERM with the defaults (heartbeat, no --shutdown-delay): 3 s of 503 first, then exit 0', async () => {
    expectNothingLost(await sigtermUnderLoad('defaults', RECOMMENDED), 3000);
  }, 120_000);

  it('(d) loses nothing on a plain SIGTERM with --shutdown-delay 4000, then exits 0', async () => {
    const options = recommendedWithShutdownDelay(4000);
    expectNothingLost(await sigtermUnderLoad('--shutdown-delay 4000', options), 4000);
  }, 120_000);

  it('(d) records what a SIGTERM costs with --shutdown-delay 0 (the old default): the drain outruns HAProxy', async () => {
    const options = recommendedWithShutdownDelay(0);
    const { code } = await sigtermUnderLoad('--shutdown-delay 0', options);
    expect(code).toBe(0);
  }, 120_000);

  /**
   * Host A is lost under load by `lose`: the failed requests the client saw, and how long HAProxy
   * took to stop routing there, are printed for docs/deploying.md (recorded, not judged).
   */
  async function hostLossUnderLoad(
    label: string,
    lose: (app: HostApp) => Promise<void>,
  ): Promise<LoadReport> {
    await everyHostServing();
    const a = appOf('a');
    // A request that hangs on a vanished host fails after 5 s (HAProxy's own limit is 30 s).
    await load.start(lab!, haproxy.url, STEADY, { timeoutMs: 5000 });
    await sleep(1000);
    const lost = Date.now();
    await lose(a);
    await haproxy.waitForState('a', 'down', 30_000);
    const down = Date.now();
    await sleep(1000);
    const report = await load.stop();
    const lastAnswer = report.backends['a']?.last ?? lost;
    say(
      `(e) ${label}: HAProxy out after ${String(down - lost)} ms, last answer from a ${String(lastAnswer - lost)} ms after; ${summarize(report)}`,
    );
    expect(report.backends['b']?.count).toBeGreaterThan(0);
    return report;
  }

  it('(e) records what a SIGKILL of a master costs: failed requests and the time until HAProxy stops routing there', async () => {
    await hostLossUnderLoad('SIGKILL of the master', async (a) => {
      a.master().kill('SIGKILL');
      await a.master().exited(10_000);
      // Its workers, orphaned, drain and exit within 1 s (bounded here at 10 s).
      await waitUntilEmpty(a, 10_000);
    });
  }, 120_000);

  it('(e) records what it costs when every process of a host dies at once (master and workers SIGKILLed)', async () => {
    await hostLossUnderLoad('SIGKILL of the master and its workers', async (a) => {
      for (const pid of pidsIn(a.host.netns)) process.kill(pid, 'SIGKILL');
      await a.master().exited(10_000);
      await waitUntilEmpty(a, 10_000);
    });
  }, 120_000);

  it('(e) records what it costs when a host drops off the network (its link down, its processes alive)', async () => {
    const a = appOf('a');
    try {
      await hostLossUnderLoad('host off the network', async () => {
        await linkState(a, 'down');
      });
    } finally {
      await linkState(a, 'up');
    }
    await haproxy.waitForState('a', 'up', 20_000);
  }, 120_000);
});
