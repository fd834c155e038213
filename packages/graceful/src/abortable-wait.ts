/** Waits `ms` (a step of the shutdown, so the timer keeps the process alive), or until `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms === 0) {
    // Not setTimeout(0): after a crash report that blocked the loop, a timer can run before the
    // poll phase reads the requests that arrived meanwhile; setImmediate runs after it, so they
    // are still served (with Connection: close) instead of shed.
    return untilAborted(new Promise((resolve) => setImmediate(resolve)), signal);
  }
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  return untilAborted(elapsed, signal).finally(() => {
    clearTimeout(timer);
  });
}

export function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void promise.then(done, done);
  });
}
