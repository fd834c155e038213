/**
 * new-connection-client.js as a real process in the balancer's namespace: a request on a new
 * connection every `intervalMs` through the Service, so that each one picks an endpoint afresh.
 */
import * as path from 'node:path';
import type { Lab } from '../multi-host/lab';
import { startLabClient } from '../multi-host/load';
import type { LabClient, LoadFailure } from '../multi-host/load';

const CLIENT_SCRIPT = path.join(__dirname, 'new-connection-client.js');

export interface NewConnectionReport {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly failures: readonly Omit<LoadFailure, 'message'>[];
  /** Every answer: when its request was sent (epoch ms), and which pod answered. */
  readonly answers: readonly { readonly at: number; readonly host: string }[];
}

export type NewConnectionLoad = LabClient<NewConnectionReport>;

/** Starts the client against `url`; resolves after its first good answer. */
export function startNewConnectionLoad(
  lab: Lab,
  url: string,
  intervalMs: number,
): Promise<NewConnectionLoad> {
  const timeoutMs = 10_000;
  return startLabClient<NewConnectionReport>(
    lab,
    CLIENT_SCRIPT,
    { url, intervalMs, timeoutMs },
    timeoutMs + 10_000,
  );
}
