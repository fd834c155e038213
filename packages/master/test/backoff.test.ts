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

  it('re-forks at once the first young crash of a worker that had become ready', () => {
    const slot = new Slot(0);
    // A worker that served, then crashed 50 ms after its fork: no wait.
    expect(slot.decide(50, options, 0, true)).toEqual({ kind: 'respawn', delay: 0, restarts: 1 });
    // Its replacement also served and crashed young: a crash loop, and it backs off.
    expect(slot.decide(50, options, 100, true)).toEqual({
      kind: 'respawn',
      delay: 100,
      restarts: 2,
    });
    expect(slot.decide(50, options, 300, true)).toEqual({
      kind: 'respawn',
      delay: 200,
      restarts: 3,
    });
    expect(slot.decide(50, options, 700, true)).toEqual({ kind: 'failed', restarts: 3 });
  });

  it('backs off from the first death of a worker that never became ready', () => {
    const slot = new Slot(0);
    expect(slot.decide(50, options, 0, false)).toEqual({
      kind: 'respawn',
      delay: 100,
      restarts: 1,
    });
    // A ready worker's young crash in the same run counts one step less, never zero.
    expect(slot.decide(50, options, 100, true)).toEqual({
      kind: 'respawn',
      delay: 100,
      restarts: 2,
    });
  });

  it('re-forks at once again after a stable worker, ready or not', () => {
    const roomy = readOptions({ stableAfter: 1000, maxRestarts: 10, backoff: { jitter: 0 } });
    const slot = new Slot(0);
    slot.decide(50, roomy, 0, true);
    expect(slot.decide(50, roomy, 1, true)).toMatchObject({ kind: 'respawn', delay: 100 });
    expect(slot.decide(5000, roomy, 2, false)).toMatchObject({ kind: 'respawn', delay: 0 });
    expect(slot.decide(50, roomy, 3, true)).toMatchObject({ kind: 'respawn', delay: 0 });
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
