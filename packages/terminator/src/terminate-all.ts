import * as net from 'node:net';
import { createTerminator } from './create-terminator';
import { TerminatorError } from './errors';
import { resolveOptions } from './options';
import { describeValue } from './server-kind';
import type { TerminateOptions, TerminationReport, Terminator } from './types';

/**
 * Terminates several servers under one deadline: every server starts draining in the same tick
 * with the same `options`, so `timeout` bounds the whole call. Each entry is a server or a
 * {@link Terminator} made earlier (which has tracked its connections since then).
 *
 * Resolves with one report per entry, in order.
 *
 * @throws TerminatorError `LASTCALL_ERR_TERMINATOR_INVALID_SERVERS` when `servers` is not an
 * array of servers and terminators, or an option code when `options` is invalid.
 */
export function terminateAll(
  servers: readonly (net.Server | Terminator)[],
  options?: TerminateOptions,
): Promise<TerminationReport[]> {
  if (!Array.isArray(servers)) {
    throw new TerminatorError(
      'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS',
      `terminateAll(servers): servers must be an array, got ${describeValue(servers)}`,
    );
  }
  // Every entry and the options are checked before anything is attached to any server.
  const entries: (net.Server | Terminator)[] = [];
  for (let index = 0; index < servers.length; index += 1) {
    const entry: unknown = servers[index];
    if (!(entry instanceof net.Server) && !isTerminator(entry)) {
      throw new TerminatorError(
        'LASTCALL_ERR_TERMINATOR_INVALID_SERVERS',
        `terminateAll(servers): servers[${String(index)}] must be a server or a terminator, got ${describeValue(entry)}`,
      );
    }
    entries.push(entry);
  }
  resolveOptions('terminateAll(servers, options)', options);
  const terminators = entries.map((entry) =>
    entry instanceof net.Server ? createTerminator(entry, options) : entry,
  );
  return Promise.all(terminators.map((terminator) => terminator.terminate(options)));
}

function isTerminator(value: unknown): value is Terminator {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Terminator>).terminate === 'function' &&
    typeof (value as Partial<Terminator>).stats === 'function'
  );
}
