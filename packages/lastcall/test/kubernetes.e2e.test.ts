/**
 * docs/kubernetes.md's Deployment, deleted the kubelet's way. Each pod runs the `app` container of
 * examples/kubernetes/deployment.yaml (its command, args, env, ports and probes) in a PID
 * namespace of its own (`unshare --pid --fork --mount-proc`, as a container runtime does), inside
 * one host of the multi-host lab: the heartbeat on 0.0.0.0 with the Secret's token, lastcall's
 * defaults for the rest (shutdownDelay 3000 ms: a heartbeat is configured).
 *
 * A pod deletion does two things at once: the kubelet sends SIGTERM to the container's PID 1, and
 * the endpoints controller removes the pod from the Service, which kube-proxy applies on every
 * node a moment later (the propagation delay). Until then new connections still reach the pod,
 * and connections already open stay on it for their whole life (conntrack). HAProxy in `mode tcp`
 * stands in for kube-proxy (kubernetes/kube-proxy.haproxy.cfg), the kubelet's prober runs on the
 * pod's host (kubernetes/kubelet-prober.js), and two loads go through the Service from the
 * balancer's namespace, one keep-alive and one with a new connection per request, while a second
 * pod serves beside the one deleted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MASTER_DEFAULTS } from '@lastcall/master';
import { createLab } from './multi-host/lab';
import type { Lab } from './multi-host/lab';
import { removeTempDirs } from './multi-host/hosts';
import { startLoad, summarize } from './multi-host/load';
import { killLabProcesses, runIn } from './multi-host/processes';
import { startKubelet } from './kubernetes/kubelet';
import type { ProbeResult } from './kubernetes/kubelet';
import { startKubeProxy } from './kubernetes/kube-proxy';
import { EXAMPLE_DIR, MANIFEST_FILE, readManifest } from './kubernetes/manifest';
import { startNewConnectionLoad } from './kubernetes/new-connection-load';
import { processesInPidNamespace } from './kubernetes/pid-namespace';
import type { ProcessEntry } from './kubernetes/pid-namespace';
import { startPod } from './kubernetes/pod';
import type { Pod, PodInit } from './kubernetes/pod';

/** lastcall's shutdownDelay when a heartbeat is configured and no delay is given. */
const SHUTDOWN_DELAY_MS = MASTER_DEFAULTS.heartbeatShutdownDelay;
/** From the SIGTERM to kube-proxy's removal of the pod's endpoint. */
const PROPAGATION_MS = 1000;
/** How long "at once" may take: the signal's delivery and the master's handler, on a busy host. */
const AT_ONCE_MS = 250;
/** A request still in flight when the drain starts, so that the drain lasts a while. */
const SLOW_REQUEST_MS = 2500;
const SLOW_REQUEST_SENT_AFTER_MS = SHUTDOWN_DELAY_MS - 1500;
/** The kubelet's probe period here, for resolution; a real kubelet probes at most once a second. */
const PROBE_PERIOD_MS = 100;
/** A request on a new connection through the Service this often. */
const NEW_CONNECTION_INTERVAL_MS = 20;
const ORPHAN_APP = path.join(__dirname, 'kubernetes', 'orphan-app.js');
const DOC_FILE = path.join(__dirname, '..', '..', '..', 'docs', 'kubernetes.md');

let lab: Lab | undefined;

/** One line per scenario in the test's output: the figures docs/kubernetes.md quotes. */
function say(line: string): void {
  process.stdout.write(`[e2e kubernetes] ${line}\n`);
}

afterEach(() => {
  killLabProcesses();
  lab?.remove();
  lab = undefined;
  removeTempDirs();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - Date.now()));
}

/** Resolves once `isDone()` holds; polls, for /proc has no event to wait on. */
async function waitUntil(isDone: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!isDone()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${String(ms)} ms`);
    await sleep(50);
  }
}

/** The probes of `route` sent within [from, to). */
function probesOf(
  probes: readonly ProbeResult[],
  route: string,
  from: number,
  to: number,
): ProbeResult[] {
  return probes.filter(
    (probe) => probe.path === route && probe.sentAt >= from && probe.sentAt < to,
  );
}

function zombiesOf(pod: Pod): ProcessEntry[] {
  return processesInPidNamespace(pod.pidNamespace).filter((entry) => entry.state === 'Z');
}

/** The pod's output, for a failure's message. */
function describePod(pod: Pod): string {
  return `pod ${pod.host.name}:\nstdout:\n${pod.process.stdout().slice(-3000)}\nstderr:\n${pod.process.stderr().slice(-2000)}`;
}

describe('the manifest of docs/kubernetes.md', () => {
  const manifest = readManifest();

  it('gives the pod a grace period that covers shutdownDelay + drainTimeout + killTimeout and the master deadline after them', () => {
    const worstCaseMs =
      MASTER_DEFAULTS.heartbeatShutdownDelay +
      MASTER_DEFAULTS.drainTimeout +
      MASTER_DEFAULTS.killTimeout;
    // The master's own deadline is 2 s after the workers' SIGKILL (process-hooks.ts).
    expect(manifest.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      worstCaseMs + 2000,
    );
    expect(manifest.container.args).not.toContain('--shutdown-delay');
  });

  it('probes readiness on /readyz and liveness on /livez of the heartbeat, and serves the Service from the app port', () => {
    const { readinessProbe, livenessProbe } = manifest.container;
    expect(readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'heartbeat' });
    expect(livenessProbe.httpGet).toEqual({ path: '/livez', port: 'heartbeat' });
    expect(manifest.serviceTargetPort).toBe('http');
  });

  it('is shown in docs/kubernetes.md as it is, with the Dockerfile', () => {
    const doc = fs.readFileSync(DOC_FILE, 'utf8');
    expect(doc).toContain(`\`\`\`yaml\n${fs.readFileSync(MANIFEST_FILE, 'utf8')}\`\`\``);
    const dockerfile = fs.readFileSync(path.join(EXAMPLE_DIR, 'Dockerfile'), 'utf8');
    expect(doc).toContain(`\`\`\`dockerfile\n${dockerfile}\`\`\``);
  });
});

describe('lastcall in Kubernetes (PID 1 of a PID namespace, behind kube-proxy)', () => {
  it.each<PodInit>(['lastcall', 'tini'])(
    'loses no request when a pod whose PID 1 is %s is deleted the kubelet way: /readyz 503 at once, /livez 200 through the drain, exit 0, nothing left in its PID namespace',
    async (init) => {
      lab = createLab(['a', 'b']);
      const service = await startKubeProxy(lab);
      const [podA] = await Promise.all([
        startPod(lab.host('a'), { init }),
        startPod(lab.host('b')),
      ]);
      // The master and its 2 workers (and tini), all in the pod's namespace.
      const before = processesInPidNamespace(podA.pidNamespace).map((entry) => entry.pid);
      expect(before).toContain(podA.initPid);
      expect(before).toContain(podA.masterPid);
      expect(before).toHaveLength(init === 'tini' ? 4 : 3);

      const { readinessProbe, livenessProbe } = readManifest().container;
      const kubelet = await startKubelet(lab.host('a'), podA.heartbeatUrl, {
        paths: [readinessProbe.httpGet.path, livenessProbe.httpGet.path],
        periodMs: PROBE_PERIOD_MS,
        timeoutMs: readinessProbe.timeoutSeconds * 1000,
      });
      const load = await startLoad(lab, service.url, { mode: 'lanes', lanes: 8, pauseMs: 10 });
      const newConnections = await startNewConnectionLoad(
        lab,
        service.url,
        NEW_CONNECTION_INTERVAL_MS,
      );
      // Both pods answer through the Service before the deletion.
      await sleep(1000);

      const sigtermAt = Date.now();
      process.kill(podA.initPid, 'SIGTERM');
      const exited = podA.process.exited(4 * (SHUTDOWN_DELAY_MS + SLOW_REQUEST_MS));
      await sleepUntil(sigtermAt + PROPAGATION_MS);
      await service.removeEndpoint('a');
      const removedAt = Date.now();
      await sleepUntil(sigtermAt + SLOW_REQUEST_SENT_AFTER_MS);
      const slow = kubelet.get(`${podA.appUrl}/?ms=${String(SLOW_REQUEST_MS)}`, 20_000);
      const exitCode = await exited;
      const exitedAt = Date.now();
      const slowAnswer = await slow;
      // The other pod goes on serving the Service alone.
      await sleep(1000);
      const report = await load.stop();
      const newReport = await newConnections.stop();
      const probes = kubelet.probes();
      await kubelet.stop();

      const newOnA = newReport.answers.filter((answer) => answer.host === 'a');
      const inStaleWindow = newOnA.filter(
        (answer) => answer.at >= sigtermAt && answer.at < sigtermAt + PROPAGATION_MS,
      );
      const keptAliveOnA = report.backends['a'];
      say(
        `PID 1 ${init}: exit ${String(exitCode)} ${String(exitedAt - sigtermAt)} ms after SIGTERM; ` +
          `keep-alive ${summarize(report)}, last on a ${String((keptAliveOnA?.last ?? 0) - sigtermAt)} ms after SIGTERM; ` +
          `new connections: sent ${String(newReport.sent)}, failed ${String(newReport.failed)}, ` +
          `${String(inStaleWindow.length)} answered by a in the ${String(PROPAGATION_MS)} ms before the removal`,
      );
      const output = describePod(podA);
      expect({ exitCode, output }).toEqual({ exitCode: 0, output });
      expect({ summary: summarize(report), failures: report.failures }).toEqual({
        summary: expect.stringContaining(', failed 0;') as unknown,
        failures: [],
      });
      expect(report.ok).toBe(report.sent);
      expect({ failed: newReport.failed, failures: newReport.failures }).toEqual({
        failed: 0,
        failures: [],
      });
      expect(newReport.ok).toBe(newReport.sent);

      // Until the removal had propagated, new connections still reached pod A, and it answered
      // them: its shutdownDelay covers the propagation, so no preStop sleep is needed. None
      // reached it after the removal.
      expect(inStaleWindow.length).toBeGreaterThan(5);
      expect(newOnA.filter((answer) => answer.at >= removedAt)).toEqual([]);
      // Kept-alive connections, which kube-proxy never moves, were answered with Connection:
      // close, so the client reopened them elsewhere: none was left on pod A when its drain began.
      expect(keptAliveOnA?.last).toBeGreaterThan(sigtermAt);
      expect(keptAliveOnA?.last).toBeLessThan(sigtermAt + SHUTDOWN_DELAY_MS);
      expect(report.backends['b']?.last).toBeGreaterThan(exitedAt);

      // The request in flight when the drain began was answered.
      expect(slowAnswer).toMatchObject({ status: 200, error: null });
      expect(slowAnswer.sentAt).toBeLessThan(sigtermAt + SHUTDOWN_DELAY_MS);
      expect(slowAnswer.doneAt).toBeGreaterThan(sigtermAt + SHUTDOWN_DELAY_MS);

      // /readyz: 200 before the SIGTERM, 503 from just after it to the exit; after the exit
      // nothing answers (the kubelet sees the container gone).
      const readyBefore = probesOf(probes, '/readyz', 0, sigtermAt);
      expect(readyBefore.length).toBeGreaterThan(0);
      expect(readyBefore.filter((probe) => probe.status !== 200)).toEqual([]);
      const readyAfter = probesOf(probes, '/readyz', sigtermAt + AT_ONCE_MS, Infinity);
      expect(readyAfter.filter((probe) => probe.status !== null && probe.status !== 503)).toEqual(
        [],
      );
      const readyInDelay = probesOf(
        probes,
        '/readyz',
        sigtermAt + AT_ONCE_MS,
        sigtermAt + SHUTDOWN_DELAY_MS,
      );
      expect(readyInDelay.filter((probe) => probe.status === 503).length).toBeGreaterThan(5);

      // /livez: 200 whenever anything answers, through the delay and through the drain.
      const live = probesOf(probes, '/livez', 0, Infinity);
      expect(live.filter((probe) => probe.status !== null && probe.status !== 200)).toEqual([]);
      const liveInDelay = probesOf(probes, '/livez', sigtermAt, sigtermAt + SHUTDOWN_DELAY_MS);
      expect(liveInDelay.filter((probe) => probe.status === 200).length).toBeGreaterThan(5);
      const liveInDrain = probesOf(
        probes,
        '/livez',
        sigtermAt + SHUTDOWN_DELAY_MS,
        slowAnswer.doneAt - PROBE_PERIOD_MS,
      );
      expect(liveInDrain.length).toBeGreaterThan(2);
      expect(liveInDrain.filter((probe) => probe.status !== 200)).toEqual([]);

      // PID 1 gone, and with it the whole namespace: no worker, no zombie.
      expect(processesInPidNamespace(podA.pidNamespace)).toEqual([]);
    },
    60_000,
  );

  it('leaves orphaned grandchildren as zombies when the master itself is PID 1, while tini as PID 1 reaps them and hands the SIGTERM on', async () => {
    lab = createLab(['a', 'b']);
    const args = ['--shutdown-delay', '500'];
    const [bare, withTini] = await Promise.all([
      startPod(lab.host('a'), { init: 'lastcall', app: ORPHAN_APP, args }),
      startPod(lab.host('b'), { init: 'tini', app: ORPHAN_APP, args }),
    ]);
    expect(bare.masterPid).toBe(bare.initPid);
    expect(withTini.masterPid).not.toBe(withTini.initPid);
    for (const pod of [bare, withTini]) {
      for (let request = 0; request < 3; request += 1) {
        const answer = await runIn(
          lab.lbNetns,
          'curl',
          ['-sS', '-m', '5', `${pod.appUrl}/orphan`],
          { env: { PATH: process.env['PATH'] } },
          10_000,
        );
        expect(answer).toMatchObject({ code: 0, stdout: '{"orphaned":"sleep"}' });
      }
    }
    const isSleeping = (pod: Pod): boolean =>
      processesInPidNamespace(pod.pidNamespace).some(
        (entry) => entry.command === 'sleep' && entry.state !== 'Z',
      );
    // Each orphan sleeps 0.3 s; tini reaps on SIGCHLD, given a moment to do it.
    await waitUntil(() => !isSleeping(bare) && !isSleeping(withTini), 5000, 'the orphans exit');
    await sleep(250);

    // Node reaps only the children it spawned (libuv waits for their pids), so the master as
    // PID 1 never reaps what its workers' children left behind.
    const zombies = zombiesOf(bare).map(({ command, ppid }) => ({ command, ppid }));
    const expected = { command: 'sleep', ppid: bare.initPid };
    expect(zombies).toEqual([expected, expected, expected]);
    expect(zombiesOf(withTini)).toEqual([]);

    process.kill(bare.initPid, 'SIGTERM');
    process.kill(withTini.initPid, 'SIGTERM');
    // tini hands the SIGTERM to the master, which drains and exits 0; tini exits with its code.
    const codes = await Promise.all([bare.process.exited(10_000), withTini.process.exited(10_000)]);
    const outputs = [describePod(bare), describePod(withTini)];
    expect({ codes, outputs }).toEqual({ codes: [0, 0], outputs });
    // The master as PID 1 says so, once, and points at an init; under tini it does not.
    expect(bare.process.stderr()).toContain('the master runs as PID 1');
    expect(withTini.process.stderr()).not.toContain('the master runs as PID 1');
    // When PID 1 exits the kernel ends the namespace: the zombies are gone with it.
    expect(processesInPidNamespace(bare.pidNamespace)).toEqual([]);
    expect(processesInPidNamespace(withTini.pidNamespace)).toEqual([]);
  }, 60_000);

  it('starts as PID 1 over the pid file that a SIGKILLed PID 1 left in a run folder which outlived its container', async () => {
    lab = createLab(['a']);
    const first = await startPod(lab.host('a'), { init: 'lastcall' });
    // The kubelet's SIGKILL when the grace period ends, or the OOM killer: no exit handler runs.
    process.kill(first.initPid, 'SIGKILL');
    await first.process.exited(10_000);
    const second = await startPod(lab.host('a'), { init: 'lastcall', runDir: first.runDir });
    expect(second.masterPid).toBe(second.initPid);
    process.kill(second.initPid, 'SIGTERM');
    expect(await second.process.exited(4 * SHUTDOWN_DELAY_MS)).toBe(0);
  }, 60_000);
});
