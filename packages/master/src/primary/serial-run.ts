const noop = (): void => undefined;

/**
 * One run at a time. A call while a run is on is queued, and every call made meanwhile shares
 * that one queued run: two restart requests during a restart give one more restart, not two.
 */
export class SerialRun<T> {
  #current: Promise<T> | undefined;
  #queued: Promise<T> | undefined;

  get isRunning(): boolean {
    return this.#current !== undefined;
  }

  run(task: () => Promise<T>): Promise<T> {
    const current = this.#current;
    if (current === undefined) return this.#begin(task);
    this.#queued ??= current.then(noop, noop).then(() => {
      this.#queued = undefined;
      return this.#begin(task);
    });
    return this.#queued;
  }

  #begin(task: () => Promise<T>): Promise<T> {
    const run = task();
    this.#current = run;
    void run.then(noop, noop).then(() => {
      if (this.#current === run) this.#current = undefined;
    });
    return run;
  }
}
