/**
 * new-connection-client.js as a real process in the balancer's namespace: a request on a new
 * connection every `intervalMs` through the Service, so that each one picks an endpoint afresh.
 */
import * as path from 'node:path';
import type { Lab } from '../multi-host/lab';
import type { LoadFailure } from '../multi-host/load';
import { spawnIn } from '../multi-host/processes';
import type { LabProcess } from '../multi-host/processes';

const CLIENT_SCRIPT = path.join(__dirname, 'new-connection-client.js');

export interface NewConnectionReport {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly failures: readonly Omit<LoadFailure, 'message'>[];
  /** Every answer: when its request was sent (epoch ms), and which pod answered. */
  readonly answers: readonly { readonly at: number; readonly host: string }[];
}

export interface NewConnectionLoad {
  readonly process: LabProcess;
  /** Stops sending, waits for what is in flight, and resolves with the report. */
  stop(): Promise<NewConnectionReport>;
}

/** Starts the client against `url`; resolves after its first good answer. */
export async function startNewConnectionLoad(
  lab: Lab,
  url: string,
  intervalMs: number,
): Promise<NewConnectionLoad> {
  const timeoutMs = 10_000;
  const client = spawnIn(lab.lbNetns, process.execPath, [CLIENT_SCRIPT], {
    env: { PATH: process.env['PATH'], LOAD_CONFIG: JSON.stringify({ url, intervalMs, timeoutMs }) },
  });
  await client.waitForLine(/"event":"first-ok"/, 15_000);
  return {
    process: client,
    stop: async () => {
      client.write('stop\n');
      const line = await client.waitForLine(/"event":"report"/, timeoutMs + 10_000);
      return JSON.parse(line) as NewConnectionReport;
    },
  };
}
