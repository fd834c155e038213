import * as util from 'node:util';
import { describeFailure } from './plain-copy';
import type { TargetOutcome } from './types';

/** One async target: its name and how to run it. */
export interface TargetTask {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/**
 * Runs every task in parallel and resolves once, when all have settled or at `timeout` ms,
 * whichever comes first; tasks still running then are `'timeout'`. Never rejects: a task that
 * throws or rejects is `'failed'` and `onFailure` is told. The deadline timer is unref'd so it
 * never keeps the process alive.
 */
export function runTargets(
  tasks: readonly TargetTask[],
  timeout: number,
  onFailure: (name: string, reason: unknown) => void,
): Promise<Record<string, TargetOutcome>> {
  const outcomes: Record<string, TargetOutcome> = {};
  if (tasks.length === 0) return Promise.resolve(outcomes);
  return new Promise((resolve) => {
    let pending = tasks.length;
    let isDone = false;
    const finish = (): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      for (const task of tasks) outcomes[task.name] ??= 'timeout';
      resolve({ ...outcomes });
    };
    const timer = setTimeout(finish, timeout);
    timer.unref();
    for (const task of tasks) {
      const settle = (outcome: TargetOutcome, reason?: unknown): void => {
        if (isDone) return;
        outcomes[task.name] = outcome;
        if (outcome === 'failed') onFailure(task.name, reason);
        pending -= 1;
        if (pending === 0) finish();
      };
      let started: Promise<unknown>;
      try {
        started = Promise.resolve(task.run());
      } catch (error) {
        started = Promise.reject(
          util.types.isNativeError(error) ? error : new Error(describeFailure(error)),
        );
      }
      started.then(
        () => {
          settle('sent');
        },
        (error: unknown) => {
          settle('failed', error);
        },
      );
    }
  });
}
