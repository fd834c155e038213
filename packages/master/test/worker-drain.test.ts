import { EventEmitter } from 'node:events';
import type { GracefulState, ShutdownHook } from '@lastcall/graceful';
import type { Logger } from '@lastcall/log-shim';
import type { TerminateOptions, TerminationReport } from '@lastcall/terminator';
import { DRAIN_DELAY, HOLD_SHARE, VERDICT_WAIT, WorkerDrain } from '../src/worker/drain';
import type { DrainableServer } from '../src/worker/drain';

const DRAIN_TIMEOUT = 10_000;
const HOLD_FOR = DRAIN_TIMEOUT * HOLD_SHARE;

const REPORT: TerminationReport = {
  durationMs: 0,
  graceful: true,
  closedIdle: 0,
  completedInFlight: 0,
  forced: 0,
  upgraded: 0,
  h2Sessions: 0,
  hookErrors: [],
};

/** What happened to the fakes, in order, as one list. */
type Journal = string[];

/** A server's terminator: records each call; its drain ends when the test says so. */
class FakeServer implements DrainableServer {
  readonly #name: string;
  readonly #journal: Journal;
  readonly #closed: Promise<TerminationReport>;
  close: () => void = () => undefined;

  constructor(name: string, journal: Journal) {
    this.#name = name;
    this.#journal = journal;
    this.#closed = new Promise((resolve) => {
      this.close = () => {
        resolve(REPORT);
      };
    });
  }

  terminate(options?: TerminateOptions): Promise<TerminationReport> {
    const delay = options?.drainDelay;
    this.#journal.push(`${this.#name}.terminate(${delay === undefined ? '' : String(delay)})`);
    return this.#closed;
  }

  stopKeepAlive(): void {
    this.#journal.push(`${this.#name}.stopKeepAlive`);
  }
}

/** A Graceful as far as the drain sees it: the test runs its hooks, when its delay would end. */
class FakeGraceful extends EventEmitter {
  state: GracefulState = 'running';
  readonly deadline = new AbortController();
  readonly #hooks: ShutdownHook[] = [];
  readonly #journal: Journal;

  constructor(journal: Journal) {
    super();
    this.#journal = journal;
  }

  onShutdown(hook: ShutdownHook): void {
    if (this.state === 'running') this.#hooks.push(hook);
  }

  shutdown(): Promise<void> {
    this.#journal.push('shutdown');
    if (this.state === 'running') {
      this.state = 'draining';
      this.emit('draining');
    }
    return Promise.resolve();
  }

  /** Runs the hooks as graceful does after its shutdownDelay; true once they all finished. */
  runHooks(): () => boolean {
    this.state = 'closing';
    let isFinished = false;
    void Promise.all(
      this.#hooks.map((hook) => hook({ kind: 'manual' }, this.deadline.signal)),
    ).then(() => {
      isFinished = true;
    });
    return () => isFinished;
  }
}

class FakeChannel extends EventEmitter {
  connected = true;

  disconnect(): void {
    this.connected = false;
    this.emit('disconnect');
  }
}

const silent = (): void => undefined;

function setup(
  { drainTimeout }: { drainTimeout: number | undefined } = { drainTimeout: DRAIN_TIMEOUT },
) {
  const journal: Journal = [];
  const servers = [new FakeServer('a', journal), new FakeServer('b', journal)];
  const graceful = new FakeGraceful(journal);
  const channel = new FakeChannel();
  const startGraceful = jest.fn(() => graceful);
  const debug = jest.fn();
  const log: Logger = {
    trace: silent,
    debug,
    info: silent,
    warn: silent,
    error: silent,
    fatal: silent,
    child: () => log,
  };
  const drain = new WorkerDrain({
    servers: () => servers,
    startGraceful,
    drainTimeout,
    channel,
    log,
  });
  /** Lets every timer due by then fire and every promise settle. */
  const after = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const closeAll = (): void => {
    for (const server of servers) server.close();
  };
  return { journal, servers, graceful, channel, startGraceful, debug, drain, after, closeAll };
}

const DELAYED = [`a.terminate(${String(DRAIN_DELAY)})`, `b.terminate(${String(DRAIN_DELAY)})`];
const CLOSED = ['a.terminate()', 'b.terminate()'];
const KEEP_ALIVE_STOPPED = ['a.stopKeepAlive', 'b.stopKeepAlive'];

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('WorkerDrain, ordered by the master', () => {
  it('closes every listener with the drain delay, then shuts graceful down, whose hook joins at once', async () => {
    const { journal, graceful, startGraceful, drain, after, closeAll } = setup();

    drain.order();

    expect(startGraceful).toHaveBeenCalledTimes(1);
    expect(drain.phase).toBe('draining-ordered');
    expect(journal).toEqual([...DELAYED, 'shutdown', ...KEEP_ALIVE_STOPPED]);

    const isHookFinished = graceful.runHooks();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual([...DELAYED, 'shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
    expect(isHookFinished()).toBe(false);

    closeAll();
    await after(0);
    expect(isHookFinished()).toBe(true);
  });

  it('ignores the verdict that answers the shutdown the order began', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    drain.order();

    drain.verdict('hold');
    expect(drain.phase).toBe('draining-ordered');

    graceful.runHooks();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal.filter((entry) => entry.includes('terminate'))).toEqual([...DELAYED, ...CLOSED]);
  });

  it('adopts graceful once, whoever asks first', () => {
    const { startGraceful, drain } = setup();
    const adopted = drain.adoptGraceful();
    drain.order();
    expect(drain.adoptGraceful()).toBe(adopted);
    expect(startGraceful).toHaveBeenCalledTimes(1);
  });

  it('logs every move at debug level', () => {
    const { debug, drain } = setup();
    drain.order();
    expect(debug).toHaveBeenCalledWith('worker drain: serving → draining-ordered (order)', {
      from: 'serving',
      to: 'draining-ordered',
      event: 'order',
    });
  });

  it('closes servers found after the order when the hook runs', async () => {
    const { journal, servers, graceful, drain, after } = setup();
    const late = new FakeServer('c', journal);
    drain.order();
    servers.push(late);

    graceful.runHooks();
    await after(0);
    expect(journal).toEqual([
      ...DELAYED,
      'shutdown',
      ...KEEP_ALIVE_STOPPED,
      ...CLOSED,
      'c.terminate()',
    ]);
  });
});

describe('WorkerDrain, shutting down by itself', () => {
  it('stops keep-alive and keeps listening until the master answers', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();

    void graceful.shutdown();
    expect(drain.phase).toBe('draining-alone');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);

    graceful.runHooks();
    await after(VERDICT_WAIT - 1);
    expect(drain.phase).toBe('draining-alone');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);
  });

  it('on hold, keeps listening until the order, which closes the listeners without the drain delay', async () => {
    const { journal, graceful, drain, after, closeAll } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    const isHookFinished = graceful.runHooks();
    await after(VERDICT_WAIT / 2);

    drain.verdict('hold');
    expect(drain.phase).toBe('holding');
    await after(HOLD_FOR - 1);
    expect(drain.phase).toBe('holding');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);

    drain.order();
    expect(drain.phase).toBe('released');
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, 'shutdown', ...CLOSED]);
    closeAll();
    await after(0);
    expect(isHookFinished()).toBe(true);
  });

  it('on go, closes the listeners at once', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    await after(10);

    drain.verdict('go');
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('acts on a verdict that came during the shutdown delay when the hook runs, not before', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();

    drain.verdict('go');
    expect(drain.phase).toBe('released');
    await after(VERDICT_WAIT * 3);
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);

    graceful.runHooks();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('starts the hold when the hook runs, for a hold that came during the shutdown delay', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    drain.verdict('hold');
    await after(HOLD_FOR * 2);

    graceful.runHooks();
    await after(HOLD_FOR - 1);
    expect(drain.phase).toBe('holding');
    await after(1);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('closes the listeners when no verdict comes within VERDICT_WAIT of the hook', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();

    await after(VERDICT_WAIT - 1);
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);
    await after(1);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('holds for HOLD_SHARE of drainTimeout from the verdict, then closes the listeners', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    await after(VERDICT_WAIT - 1);
    drain.verdict('hold');

    await after(HOLD_FOR - 1);
    expect(drain.phase).toBe('holding');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);
    await after(1);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('does not hold without a known drainTimeout', async () => {
    const { journal, graceful, drain, after } = setup({ drainTimeout: undefined });
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    drain.verdict('hold');

    // Node runs a 0 ms timer after 1 ms.
    await after(1);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('takes the first verdict: a later go does not cut a hold short', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    drain.verdict('hold');
    drain.verdict('go');

    await after(HOLD_FOR - 1);
    expect(drain.phase).toBe('holding');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED]);
  });

  it('closes with the drain delay on an order that crossed its shutdown, and the waiting hook joins', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    await after(VERDICT_WAIT / 2);

    drain.order();
    expect(drain.phase).toBe('draining-ordered');
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...DELAYED, 'shutdown', ...CLOSED]);
  });

  it('stops keep-alive at once when the Graceful it adopts is shutting down already', () => {
    const { journal, graceful, drain } = setup();
    graceful.state = 'draining';

    drain.adoptGraceful();
    expect(drain.phase).toBe('draining-alone');
    expect(journal).toEqual(KEEP_ALIVE_STOPPED);
  });

  it('ends the wait at graceful deadline', async () => {
    const { journal, graceful, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    drain.verdict('hold');
    await after(10);

    graceful.deadline.abort();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });
});

describe('WorkerDrain, losing its master', () => {
  it('stops waiting for the master when the channel closes', async () => {
    const { journal, graceful, channel, drain, after } = setup();
    drain.adoptGraceful();
    void graceful.shutdown();
    graceful.runHooks();
    drain.verdict('hold');
    await after(10);

    channel.disconnect();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });

  it('does not wait at all when the channel closed before the hook ran', async () => {
    const { journal, graceful, channel, drain, after } = setup();
    drain.adoptGraceful();
    channel.disconnect();
    expect(drain.phase).toBe('serving');

    void graceful.shutdown();
    graceful.runHooks();
    await after(0);
    expect(drain.phase).toBe('closing');
    expect(journal).toEqual(['shutdown', ...KEEP_ALIVE_STOPPED, ...CLOSED]);
  });
});
