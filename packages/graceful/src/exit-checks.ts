import type { Logger } from '@lastcall/log-shim';
import type { ExitCheck } from './types';

/** How often checks are evaluated again while one is not ready, in ms. */
export const CHECK_INTERVAL = 50;

interface RegisteredCheck {
  readonly check: ExitCheck;
  readonly name: string;
}

/**
 * The "ready to exit?" predicates of thehelp-cluster's Graceful. Once the hooks are done they are
 * evaluated at once; while one is not ready, again on {@link ExitChecks.recheck} (something
 * changed) or every {@link CHECK_INTERVAL} ms. A check that throws is logged once and counts as
 * not ready.
 */
export class ExitChecks {
  readonly #checks = new Set<RegisteredCheck>();
  readonly #reportedThrow = new WeakSet<RegisteredCheck>();
  #notReady: string[] = [];
  #wake: (() => void) | undefined;
  /** How many times {@link ExitChecks.recheck} was called: one asked during a round counts. */
  #rechecks = 0;
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds `check`; returns a function that removes it. */
  add(check: ExitCheck, name: string): () => void {
    const entry = { check, name };
    this.#checks.add(entry);
    return () => {
      this.#checks.delete(entry);
      this.recheck();
    };
  }

  /** Names of the checks that were not ready at the last evaluation. */
  get notReady(): readonly string[] {
    return this.#notReady;
  }

  /** Evaluates the checks again now, if {@link ExitChecks.waitUntilReady} is waiting. */
  recheck(): void {
    // Asked while an async check is being evaluated: that round may have read the old state.
    this.#rechecks += 1;
    this.#wake?.();
  }

  /** Resolves once every check is ready, or when `deadline` aborts. */
  async waitUntilReady(deadline: AbortSignal): Promise<void> {
    while (!deadline.aborted) {
      const rechecks = this.#rechecks;
      this.#notReady = await this.#evaluate();
      if (this.#notReady.length === 0) return;
      if (this.#rechecks === rechecks) await this.#nextRound(deadline);
    }
  }

  async #evaluate(): Promise<string[]> {
    const entries = [...this.#checks];
    const results = await Promise.all(entries.map((entry) => this.#isReady(entry)));
    return entries.filter((_entry, index) => !results[index]).map((entry) => entry.name);
  }

  async #isReady(entry: RegisteredCheck): Promise<boolean> {
    try {
      // Only `true` means ready: a JavaScript check returning a truthy object or a string is a bug.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
      return (await entry.check()) === true;
    } catch (error) {
      if (!this.#reportedThrow.has(entry)) {
        this.#reportedThrow.add(entry);
        this.#log.error(`exit check "${entry.name}" threw; it counts as not ready`, {
          code: 'LASTCALL_ERR_GRACEFUL_CHECK_FAILED',
          check: entry.name,
          err: error,
        });
      }
      return false;
    }
  }

  #nextRound(deadline: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        deadline.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      // Polling only stands in for a change nobody announced; it never keeps the process alive.
      const timer = setTimeout(done, CHECK_INTERVAL);
      timer.unref();
      deadline.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}
