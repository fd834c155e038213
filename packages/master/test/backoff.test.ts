import { backoffDelay } from '../src/primary/backoff';
import { MASTER_DEFAULTS } from '../src/primary/options';
import { Slot } from '../src/primary/slot';
import { readOptions } from '../src/primary/options';

const NO_JITTER = { ...MASTER_DEFAULTS.backoff, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles from initial with each quick death, up to max', () => {
    expect([1, 2, 3, 4, 20].map((deaths) => backoffDelay(NO_JITTER, deaths))).toEqual([
      100, 200, 400, 800, 30_000,
    ]);
  });

  it('varies by at most ± jitter, and never past max', () => {
    const backoff = { initial: 1000, max: 1100, factor: 2, jitter: 0.2 };
    expect(backoffDelay(backoff, 1, () => 0)).toBe(800);
    expect(backoffDelay(backoff, 1, () => 1)).toBe(1100);
    expect(backoffDelay(backoff, 1, () => 0.5)).toBe(1000);
  });
});

describe('Slot', () => {
  const options = readOptions({
    stableAfter: 1000,
    maxRestarts: 3,
    restartWindow: 10_000,
    backoff: { initial: 100, jitter: 0 },
  });

  it('re-forks a worker that lived past stableAfter at once, and backs off for quick deaths', () => {
    const slot = new Slot(0);
    expect(slot.decide(5000, options, 0)).toEqual({ kind: 'respawn', delay: 0, restarts: 1 });
    expect(slot.decide(50, options, 100)).toEqual({ kind: 'respawn', delay: 100, restarts: 2 });
    expect(slot.decide(50, options, 300)).toEqual({ kind: 'respawn', delay: 200, restarts: 3 });
    expect(slot.decide(50, options, 700)).toEqual({ kind: 'failed', restarts: 3 });
    expect(slot.isFailed).toBe(true);
  });

  it('forgets re-forks older than restartWindow', () => {
    const slot = new Slot(0);
    for (const time of [0, 1, 2]) slot.decide(5000, options, time);
    expect(slot.decide(5000, options, 20_000)).toEqual({ kind: 'respawn', delay: 0, restarts: 4 });
  });

  it('is given a new chance by revive()', () => {
    const slot = new Slot(0);
    for (const time of [0, 1, 2, 3]) slot.decide(50, options, time);
    expect(slot.isFailed).toBe(true);
    slot.revive();
    expect(slot.isFailed).toBe(false);
    expect(slot.decide(50, options, 4)).toEqual({ kind: 'respawn', delay: 100, restarts: 4 });
  });
});
