/**
 * The kubelet of the Kubernetes lab: kubelet-prober.js as a real process on the pod's host (its
 * network namespace), probing the pod's heartbeat as the kubelet's HTTP prober does.
 */
import * as path from 'node:path';
import type { LabHost } from '../multi-host/lab';
import { spawnIn } from '../multi-host/processes';
import type { LabProcess } from '../multi-host/processes';

const PROBER_SCRIPT = path.join(__dirname, 'kubelet-prober.js');

/** One probe's outcome: `status` null when nothing answered (then `error` says why). */
export interface ProbeResult {
  readonly path: string;
  readonly sentAt: number;
  readonly status: number | null;
  readonly error: string | null;
}

/** The outcome of a `get` sent through the kubelet process. */
export interface GetResult {
  readonly url: string;
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number | null;
  readonly error: string | null;
}

export interface Kubelet {
  readonly process: LabProcess;
  /** Every probe answered (or failed) so far, in the order they ended. */
  probes(): ProbeResult[];
  /** Sends one GET from the node to `url`; resolves with its outcome. */
  get(url: string, ms: number): Promise<GetResult>;
  stop(): Promise<void>;
}

function parseProbes(text: string): ProbeResult[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{"event":"probe"'))
    .map((line) => JSON.parse(line) as ProbeResult);
}

/**
 * The kubelet's prober on `host` (the pod's node): GET `paths` of `heartbeatUrl` every
 * `periodMs`, each on a new connection, with `timeoutMs`. Resolves after the first answered
 * round.
 */
export async function startKubelet(
  host: LabHost,
  heartbeatUrl: string,
  { paths, periodMs, timeoutMs }: { paths: readonly string[]; periodMs: number; timeoutMs: number },
): Promise<Kubelet> {
  const kubelet = spawnIn(host.netns, process.execPath, [PROBER_SCRIPT], {
    env: {
      PATH: process.env['PATH'],
      KUBELET_CONFIG: JSON.stringify({
        base: heartbeatUrl,
        paths,
        periodMs,
        timeoutMs,
        maxMs: 120_000,
      }),
    },
  });
  await kubelet.waitForLine(/"event":"probe".*"status":200/, 15_000);
  let gets = 0;
  return {
    process: kubelet,
    probes: () => parseProbes(kubelet.stdout()),
    get: async (url, ms) => {
      gets += 1;
      const id = `get-${String(gets)}`;
      kubelet.write(`get ${id} ${url}\n`);
      const line = await kubelet.waitForLine(new RegExp(`^\\{"event":"get","id":"${id}"`), ms);
      return JSON.parse(line) as GetResult;
    },
    stop: async () => {
      kubelet.write('stop\n');
      await kubelet.exited(5000);
    },
  };
}
