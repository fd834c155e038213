/**
 * The lab's load client (load-client.js) as a real process inside the balancer's namespace, and its
 * report.
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

export interface Load {
  readonly process: LabProcess;
  /** Stops sending, waits for what is in flight; resolves with the report. */
  stop(): Promise<LoadReport>;
}

/** Starts load-client.js against `url`; resolves once a first request was answered 200. */
export async function startLoad(
  lab: Lab,
  url: string,
  shape: LoadShape,
  { connections = 8, timeoutMs = 10_000 }: { connections?: number; timeoutMs?: number } = {},
): Promise<Load> {
  const child = spawnIn(lab.lbNetns, process.execPath, [path.join(__dirname, 'load-client.js')], {
    env: {
      PATH: process.env['PATH'],
      LOAD_CONFIG: JSON.stringify({ url, connections, timeoutMs, ...shape }),
    },
    cwd: __dirname,
  });
  await child.waitForLine(/"event":"first-ok"/, 15_000);
  return {
    process: child,
    stop: async () => {
      child.write('stop\n');
      // In-flight requests end within their own timeout.
      const line = await child.waitForLine(/"event":"report"/, timeoutMs + 20_000);
      await child.exited(10_000);
      return JSON.parse(line) as LoadReport;
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
