import { readOptions } from '../src/primary/options';
import { Slot } from '../src/primary/slot';
import { Upkeep } from '../src/primary/upkeep';
import type { UpkeepHost } from '../src/primary/upkeep';
import type { WorkerHandle } from '../src/primary/worker-handle';
import type { WorkerInfo } from '../src/types';
import { recordingLogger } from './unit-support';

interface FakeHandle {
  slot: number;
  pid: number;
  state: 'ready' | 'exited';
  forkedAt: number;
  requests: number;
  connections: number;
  connectionsServed: number;
  rss: number | undefined;
  missedPings: number;
  ping(): void;
}

function fakeHandle(slot: number, pid: number): FakeHandle {
  return {
    slot,
    pid,
    state: 'ready',
    forkedAt: Date.now(),
    requests: 0,
    connections: 0,
    connectionsServed: 0,
    rss: undefined,
    missedPings: 0,
    ping: () => undefined,
  };
}

/**
 * An upkeep over one fake slot per handle; `replace` swaps in a new fake worker at once, as the
 * rolling path does (and calls `revive()`, as the rolling path does).
 */
function setUp(options: Parameters<typeof readOptions>[0]) {
  const resolved = readOptions(options);
  const slots = [new Slot(0), new Slot(1)];
  let nextPid = 100;
  for (const slot of slots) slot.current = fakeHandle(slot.index, nextPid++) as never;
  const replaced: { slot: number; pid: number; reason: string; at: number }[] = [];
  const events: { event: string; info: unknown }[] = [];
  const { logger, records } = recordingLogger();
  const host: UpkeepHost = {
    servingWorkers: () =>
      slots
        .map((slot) => slot.current)
        .filter((handle): handle is WorkerHandle => handle?.state === 'ready'),
    infoOf: (handle) => ({ slot: handle.slot, pid: handle.pid }) as WorkerInfo,
    slotOf: (handle) => slots[handle.slot],
    options: resolved,
    replace: (handle, reason) => {
      const slot = slots[handle.slot];
      if (slot === undefined) return Promise.resolve();
      replaced.push({ slot: handle.slot, pid: handle.pid ?? 0, reason, at: Date.now() });
      (handle as unknown as FakeHandle).state = 'exited';
      slot.revive();
      slot.current = fakeHandle(slot.index, nextPid++) as never;
      return Promise.resolve();
    },
    isRestarting: () => false,
    emit: (event, ...args) => {
      events.push({ event, info: args[0] });
    },
    log: logger,
  };
  const upkeep = new Upkeep(resolved.recycle, resolved.health, host);
  // The lines as this file's expectations read them: the level and the text of each call.
  const log = {
    get lines(): { level: string; text: string }[] {
      return records.map(({ level, message }) => ({ level, text: message }));
    },
  };
  return { upkeep, slots, replaced, events, log };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('Slot', () => {
  it('keeps its accounting through a replacement for failing health, not through a restart', async () => {
    const options = readOptions({ stableAfter: 5000, maxRestarts: 10 });
    const slot = new Slot(0);
    expect(slot.decide(10, options, 0)).toMatchObject({
      kind: 'respawn',
      delay: expect.any(Number) as unknown,
    });
    const second = slot.decide(10, options, 1);
    await slot.keepingAccounting(() => {
      slot.revive();
      return Promise.resolve();
    });
    // Still the third quick death in a row: the delay keeps growing.
    const third = slot.decide(10, options, 2);
    expect(second.kind === 'respawn' && third.kind === 'respawn').toBe(true);
    if (second.kind !== 'respawn' || third.kind !== 'respawn') return;
    expect(third.restarts).toBe(3);
    slot.revive();
    // A rolling restart starts over: a first quick death again.
    expect(slot.decide(10, readOptions({ backoff: { jitter: 0 } }), 3)).toMatchObject({
      delay: 100,
    });
  });
});

describe('Upkeep: recycling', () => {
  it('recycles by connections served in total', async () => {
    const { upkeep, slots, replaced } = setUp({
      workers: 2,
      health: false,
      recycle: { maxConnectionsServed: 5, spacing: 100 },
    });
    upkeep.start();
    const handle = slots[1]?.current as unknown as FakeHandle;
    handle.connectionsServed = 4;
    await jest.advanceTimersByTimeAsync(1100);
    expect(replaced).toEqual([]);
    handle.connectionsServed = 5;
    await jest.advanceTimersByTimeAsync(1100);
    expect(replaced).toEqual([
      expect.objectContaining({
        slot: 1,
        reason: 'recycle: 5 connections served (maxConnectionsServed 5)',
      }),
    ]);
    upkeep.stop();
  });

  it('reads the deprecated maxConnections as open connections, with one warning at start', async () => {
    const { upkeep, slots, replaced, log } = setUp({
      workers: 2,
      health: false,
      recycle: { maxConnections: 3, spacing: 100 },
    });
    upkeep.start();
    expect(log.lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        text: expect.stringMatching(/^recycle\.maxConnections is deprecated/) as unknown,
      },
    ]);
    const handle = slots[0]?.current as unknown as FakeHandle;
    handle.connectionsServed = 1000;
    await jest.advanceTimersByTimeAsync(1100);
    expect(replaced).toEqual([]);
    handle.connections = 3;
    await jest.advanceTimersByTimeAsync(1100);
    expect(replaced).toEqual([
      expect.objectContaining({ slot: 0, reason: 'recycle: 3 connections (maxConnections 3)' }),
    ]);
    upkeep.stop();
  });

  it('refuses maxConnections together with maxOpenConnections', () => {
    expect(() => readOptions({ recycle: { maxConnections: 1, maxOpenConnections: 1 } })).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_OPTIONS' }) as Error,
    );
  });
});

describe('Upkeep: health replacements through the slot backoff', () => {
  it('waits longer before each quick replacement of a failing slot, then gives it up', async () => {
    const { upkeep, replaced, events, slots } = setUp({
      workers: 2,
      stableAfter: 60_000,
      maxRestarts: 3,
      backoff: { initial: 500, factor: 2, jitter: 0 },
      health: { pingInterval: 100, probe: (info) => info.slot !== 0 },
    });
    upkeep.start();
    const start = Date.now();
    await jest.advanceTimersByTimeAsync(20_000);
    const gaps = replaced.map((entry, index) => entry.at - (replaced[index - 1]?.at ?? start));
    expect(replaced.map((entry) => entry.slot)).toEqual([0, 0, 0]);
    // First detection at the first tick (100 ms), then 500 ms of backoff; then tick + 1000,
    // tick + 2000 (the queue's spacing is the ping interval, 100 ms ± 20 %).
    expect(gaps[0]).toBeGreaterThanOrEqual(600);
    expect(gaps[0]).toBeLessThan(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeLessThan(1400);
    expect(gaps[2]).toBeGreaterThanOrEqual(2000);
    expect(gaps[2]).toBeLessThan(2400);
    expect(events).toEqual([{ event: 'failed', info: { slot: 0, restarts: 3, window: 60_000 } }]);
    expect(slots[0]?.isFailed).toBe(true);
    expect(slots[0]?.current?.state).toBe('ready');
    upkeep.stop();
  });

  it('calls off a replacement waiting out its backoff when the probe passes again', async () => {
    const { upkeep, replaced, log } = setUp({
      workers: 2,
      stableAfter: 60_000,
      backoff: { initial: 5000, jitter: 0 },
      health: { pingInterval: 100, probe: (info) => info.slot !== 0 || Date.now() >= 1_000_300 },
    });
    upkeep.start();
    await jest.advanceTimersByTimeAsync(20_000);
    expect(replaced).toEqual([]);
    expect(log.lines).toContainEqual({
      level: 'info',
      text: 'slot 0: the probe passes again; its replacement is called off',
    });
    upkeep.stop();
  });

  it('replaces a worker that fails after stableAfter at once', async () => {
    const { upkeep, replaced, slots } = setUp({
      workers: 2,
      stableAfter: 1000,
      backoff: { initial: 5000, jitter: 0 },
      health: { pingInterval: 100, probe: (info) => info.slot !== 1 || Date.now() < 1_003_000 },
    });
    upkeep.start();
    await jest.advanceTimersByTimeAsync(3300);
    expect(replaced).toEqual([expect.objectContaining({ slot: 1, at: 1_003_000 })]);
    // Its replacement fails young: a quick death, waiting out 5000 ms of backoff meanwhile.
    expect(slots[1]?.restarts).toBe(2);
    upkeep.stop();
  });
});
