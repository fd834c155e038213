import type { ShutdownReason } from './types';

/** 1, or the error's own `exitCode` when it is an integer from 1 to 255. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  return Number.isInteger(code) && (code as number) >= 1 && (code as number) <= 255
    ? (code as number)
    : 1;
}

/** The reason as plain data: for the log and the message to the master. */
export function describeReason(reason: ShutdownReason): Record<string, unknown> {
  if (reason.kind === 'signal') return { kind: 'signal', signal: reason.signal };
  if (reason.kind === 'error') {
    // The name only: a message can carry a secret, and this goes to logs and to the master.
    const error = reason.error;
    const name = error instanceof Error ? error.name : `a thrown ${typeof error}`;
    return { kind: 'error', origin: reason.origin, error: name };
  }
  return { kind: reason.kind };
}
