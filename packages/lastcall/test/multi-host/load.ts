/**
 * The lab's load client (load-client.js) as a real process inside the balancer's namespace, its
 * report, and the one load a suite runs at a time.
 */
import * as path from 'node:path';
import type { Lab } from './lab';
import { spawnIn } from './processes';
import type { LabProcess } from './processes';

/** One failed request: when it was sent (epoch ms), undici's error code or the HTTP status. */
export interface LoadFailure {
  readonly at: number;
  readonly code: string | null;
  readonly status: number | null;
  readonly message: string;
}

export interface LoadReport {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** The first 200 failures. */
  readonly failures: readonly LoadFailure[];
  /** Every failure, counted by undici's error code or `HTTP <status>`. */
  readonly failureKinds: Record<string, number>;
  /** Per host: answers, and the epoch ms of the first and the last. */
  readonly backends: Record<string, { count: number; first: number; last: number }>;
  /** Per version the answers carried: how many. */
  readonly versions: Record<string, number>;
  /** Per host: the worker pids that answered. */
  readonly pids: Record<string, number[]>;
}

export type LoadShape =
  | { readonly mode: 'lanes'; readonly lanes: number; readonly pauseMs: number }
  | {
      readonly mode: 'waves';
      readonly waveSize: number;
      readonly periodMs: number;
      readonly jitterMs: number;
    };

/** 8 loops, each a request then a 5 ms pause: a steady keep-alive load a balancer spreads. */
export const STEADY: LoadShape = { mode: 'lanes', lanes: 8, pauseMs: 5 };

/** A client script of the lab running in the balancer's namespace, until asked for its report. */
export interface LabClient<Report> {
  readonly process: LabProcess;
  /** Stops sending, waits for what is in flight; resolves with the report. */
  stop(): Promise<Report>;
}

export type Load = LabClient<LoadReport>;

/**
 * Runs the client `script` in the balancer's namespace with `config` as its LOAD_CONFIG; resolves
 * once it printed its first good answer. Its `stop()` writes `stop` to it and resolves with the
 * report it prints (within `reportWithinMs`) before it exits.
 */
export async function startLabClient<Report>(
  lab: Lab,
  script: string,
  config: Readonly<Record<string, unknown>>,
  reportWithinMs: number,
): Promise<LabClient<Report>> {
  const child = spawnIn(lab.lbNetns, process.execPath, [script], {
    env: { PATH: process.env['PATH'], LOAD_CONFIG: JSON.stringify(config) },
    cwd: path.dirname(script),
  });
  await child.waitForLine(/"event":"first-ok"/, 15_000);
  return {
    process: child,
    stop: async () => {
      child.write('stop\n');
      const line = await child.waitForLine(/"event":"report"/, reportWithinMs);
      await child.exited(10_000);
      return JSON.parse(line) as Report;
    },
  };
}

/** Starts load-client.js against `url`; resolves once a first request was answered 200. */
export function startLoad(
  lab: Lab,
  url: string,
  shape: LoadShape,
  { connections = 8, timeoutMs = 10_000 }: { connections?: number; timeoutMs?: number } = {},
): Promise<Load> {
  // In-flight requests end within their own timeout.
  return startLabClient<LoadReport>(
    lab,
    path.join(__dirname, 'load-client.js'),
    { url, connections, timeoutMs, ...shape },
    timeoutMs + 20_000,
  );
}

/** The one load a suite runs at a time, so that its `afterEach` stops what a failed test left. */
export interface LoadSlot {
  /** {@link startLoad}; rejects while another load of the slot runs. */
  start(...args: Parameters<typeof startLoad>): Promise<void>;
  /** Stops the running load and resolves with its report. */
  stop(): Promise<LoadReport>;
  /** Stops the load if one runs, and forgets its report: for `afterEach`. */
  stopIfRunning(): Promise<void>;
}

/** A {@link LoadSlot} with no load running. */
export function createLoadSlot(): LoadSlot {
  let load: Load | undefined;
  const stop = async (): Promise<LoadReport> => {
    if (load === undefined) throw new Error('no load runs');
    const report = await load.stop();
    load = undefined;
    return report;
  };
  return {
    start: async (...args) => {
      if (load !== undefined) throw new Error('a load runs already');
      load = await startLoad(...args);
    },
    stop,
    stopIfRunning: async () => {
      if (load !== undefined) await stop();
    },
  };
}

/** One line for the test's output: sent, failed and each failure's code or status. */
export function summarize(report: LoadReport): string {
  const perHost = Object.entries(report.backends)
    .map(([host, backend]) => `${host}=${String(backend.count)}`)
    .join(' ');
  const failures = Object.entries(report.failureKinds)
    .map(([kind, count]) => `${kind}×${String(count)}`)
    .join(', ');
  return `sent ${String(report.sent)}, ok ${String(report.ok)}, failed ${String(report.failed)}${failures === '' ? '' : ` (${failures})`}; per host ${perHost}`;
}
