import cluster from 'node:cluster';
import { setLogger } from '@lastcall/log-shim';
import { Master, MasterError } from '@lastcall/master';
import type { RequestHandler, RestartReport } from '@lastcall/master';
import { LastcallError } from '../src/errors';
import { lastcall, RESTART_REQUEST, STOP_REQUEST } from '../src/lastcall';
import type { LastcallOptions } from '../src/lastcall';

// jest runs in the cluster primary, where lastcall({ worker }) creates and starts a Master that
// would fork workers of jest itself. Master is a mock here; each test that needs one hands it a
// fake, and any other `new Master()` throws.
jest.mock('@lastcall/master', () => ({
  ...jest.requireActual<Record<string, unknown>>('@lastcall/master'),
  Master: jest.fn(),
}));

const MockedMaster = jest.mocked(Master);

const ENV_NAMES = ['LASTCALL_STATSD', 'LASTCALL_APP_NAME', 'THEHELP_APP_NAME'] as const;
const savedEnv = new Map<string, string | undefined>();
let savedExitCode: typeof process.exitCode;

beforeEach(() => {
  for (const name of ENV_NAMES) {
    savedEnv.set(name, process.env[name]);
    // No statsd target: a launch counted here sends nothing.
    Reflect.deleteProperty(process.env, name);
  }
  savedExitCode = process.exitCode;
  MockedMaster.mockReset();
  MockedMaster.mockImplementation(() => {
    throw new Error('a unit test must not create a real Master');
  });
});

afterEach(() => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
  process.exitCode = savedExitCode;
  setLogger(undefined);
  jest.restoreAllMocks();
});

/** The LastcallError `run` throws; fails the test when it returns. */
function thrownBy(run: () => unknown): LastcallError {
  try {
    run();
  } catch (error) {
    if (error instanceof LastcallError) return error;
    throw error;
  }
  throw new Error('returned instead of throwing');
}

const FROM_WORKER = { slot: 0, id: 1, pid: 4242 };

interface FakeMaster {
  readonly handlers: Map<string, RequestHandler>;
  readonly handle: jest.Mock;
  readonly start: jest.Mock<Promise<void>>;
  readonly restart: jest.Mock<Promise<RestartReport>>;
  readonly stop: jest.Mock<Promise<void>>;
}

/** Makes the next `new Master(options)` return a fake whose start() settles as `started`. */
function useFakeMaster(started: Promise<void> = Promise.resolve()): FakeMaster {
  const handlers = new Map<string, RequestHandler>();
  const fake: FakeMaster = {
    handlers,
    handle: jest.fn((type: string, handler: RequestHandler) => {
      handlers.set(type, handler);
      return fake;
    }),
    start: jest.fn(() => started),
    restart: jest.fn(() =>
      Promise.resolve({ replaced: [], duration: 5 } as unknown as RestartReport),
    ),
    stop: jest.fn(() => Promise.resolve()),
  };
  MockedMaster.mockImplementation(() => fake as unknown as Master);
  return fake;
}

describe('lastcall(): option validation', () => {
  it.each([undefined, null, 'server.js', 42, [], () => undefined])(
    'throws LASTCALL_ERR_LASTCALL_INVALID_OPTIONS for options %p',
    (options) => {
      const error = thrownBy(() => lastcall(options as unknown as LastcallOptions));
      expect(error.code).toBe('LASTCALL_ERR_LASTCALL_INVALID_OPTIONS');
      expect(error.message).toMatch(/^lastcall\(options\): expected an object, got /);
    },
  );

  it.each([
    [{ worker: './server.js' }, 'worker'],
    [{ worker: {} }, 'worker'],
    [{ worker: () => undefined, master: true }, 'master'],
    [{ master: 'mine' }, 'master'],
  ])(
    'throws LASTCALL_ERR_LASTCALL_INVALID_OPTIONS for %p: "%s" must be a function',
    (options, name) => {
      const error = thrownBy(() => lastcall(options as unknown as LastcallOptions));
      expect(error.code).toBe('LASTCALL_ERR_LASTCALL_INVALID_OPTIONS');
      expect(error.message).toMatch(
        new RegExp(`^lastcall\\(\\): "${name}" must be a function, got `),
      );
    },
  );

  it.each([{}, { workers: 2 }, { worker: undefined, master: undefined }])(
    'throws LASTCALL_ERR_LASTCALL_INVALID_OPTIONS for %p, with neither worker nor master',
    (options) => {
      const error = thrownBy(() => lastcall(options as unknown as LastcallOptions));
      expect(error.code).toBe('LASTCALL_ERR_LASTCALL_INVALID_OPTIONS');
      expect(error.message).toBe(
        'lastcall(): give "worker", the function that starts your server in each worker',
      );
    },
  );

  it("throws the launch metrics' coded error for a bad statsd or appName before any Master", () => {
    expect(thrownBy(() => lastcall({ worker: () => undefined, statsd: 'nohost' })).code).toBe(
      'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS',
    );
    expect(thrownBy(() => lastcall({ master: () => undefined, appName: '' })).code).toBe(
      'LASTCALL_ERR_LASTCALL_INVALID_OPTIONS',
    );
    expect(MockedMaster).not.toHaveBeenCalled();
  });
});

describe('lastcall(): options.master in the primary', () => {
  it('runs the given master instead of a Master, and started waits for it', async () => {
    const events: string[] = [];
    const handle = lastcall({
      master: async () => {
        events.push('master begins');
        await new Promise((resolve) => setImmediate(resolve));
        events.push('master done');
        return 'ignored';
      },
    });
    expect(handle.role).toBe('master');
    expect(handle.master).toBeUndefined();
    await expect(handle.started).resolves.toBeUndefined();
    expect(events).toStrictEqual(['master begins', 'master done']);
    expect(MockedMaster).not.toHaveBeenCalled();
  });

  it('rejects started with the error of a master that throws', async () => {
    const failure = new Error('no config');
    const handle = lastcall({
      master: () => {
        throw failure;
      },
    });
    await expect(handle.started).rejects.toBe(failure);
  });

  it('rejects restart() and stop() with LASTCALL_ERR_LASTCALL_NO_MASTER', async () => {
    const handle = lastcall({ master: () => undefined });
    await handle.started;
    await expect(handle.restart()).rejects.toMatchObject({
      code: 'LASTCALL_ERR_LASTCALL_NO_MASTER',
      message: expect.stringMatching(
        /^handle\.restart\(\): there is no lastcall master to restart/,
      ) as string,
    });
    await expect(handle.stop()).rejects.toMatchObject({
      code: 'LASTCALL_ERR_LASTCALL_NO_MASTER',
      message: expect.stringMatching(
        /^handle\.stop\(\): there is no lastcall master to stop/,
      ) as string,
    });
    await expect(handle.stop()).rejects.toBeInstanceOf(LastcallError);
  });

  it("counts the master's launch on the given statsd client", async () => {
    const increment = jest.fn<undefined, [string, ...unknown[]]>();
    lastcall({ master: () => undefined, statsd: { increment }, appName: 'shop' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(increment).toHaveBeenCalledTimes(1);
    expect(increment.mock.calls[0]?.[0]).toBe('shop.launches.master');
  });
});

describe('lastcall(): a Master in the primary (mocked)', () => {
  it('creates the Master with the options that are not its own, and does not run worker', async () => {
    const fake = useFakeMaster();
    const worker = jest.fn();
    const handle = lastcall({
      worker,
      workers: 2,
      drainTimeout: 100,
      statsd: false,
      appName: 'shop',
    });
    expect(MockedMaster).toHaveBeenCalledTimes(1);
    expect(MockedMaster).toHaveBeenCalledWith({ workers: 2, drainTimeout: 100 });
    expect(handle.role).toBe('master');
    expect(handle.master).toBe(fake);
    expect(fake.start).toHaveBeenCalledTimes(1);
    await expect(handle.started).resolves.toBeUndefined();
    expect(worker).not.toHaveBeenCalled();
  });

  it("answers the workers' restart and stop requests at once, as they begin", async () => {
    const fake = useFakeMaster();
    lastcall({ worker: () => undefined, statsd: false });
    expect([...fake.handlers.keys()]).toStrictEqual([RESTART_REQUEST, STOP_REQUEST]);
    // The asking worker is one the restart replaces: it is answered before the restart ends.
    expect(fake.handlers.get(RESTART_REQUEST)!(undefined, FROM_WORKER)).toBe(true);
    expect(fake.restart).toHaveBeenCalledTimes(1);
    expect(fake.handlers.get(STOP_REQUEST)!(undefined, FROM_WORKER)).toBe(true);
    expect(fake.stop).not.toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.stop).toHaveBeenCalledTimes(1);
  });

  it('delegates restart() and stop() to the master', async () => {
    const fake = useFakeMaster();
    const handle = lastcall({ worker: () => undefined, statsd: false });
    await handle.restart();
    await handle.stop();
    expect(fake.restart).toHaveBeenCalledTimes(1);
    expect(fake.stop).toHaveBeenCalledTimes(1);
  });

  it('logs a failed start and sets process.exitCode to 1', async () => {
    const host = {
      error: jest.fn<undefined, [string, Record<string, unknown>?]>(),
      warn: jest.fn(),
      info: jest.fn(),
      debug: jest.fn(),
    };
    setLogger(host);
    const failure = new MasterError('LASTCALL_ERR_MASTER_START_FAILED', 'no worker became ready');
    useFakeMaster(Promise.reject(failure));
    const handle = lastcall({ worker: () => undefined, statsd: false });
    await expect(handle.started).rejects.toBe(failure);
    await new Promise((resolve) => setImmediate(resolve));
    expect(process.exitCode).toBe(1);
    expect(host.error).toHaveBeenCalledTimes(1);
    expect(host.error.mock.calls[0]?.[0]).toBe('no worker became ready');
    expect(host.error.mock.calls[0]?.[1]).toMatchObject({
      code: 'LASTCALL_ERR_MASTER_START_FAILED',
    });
  });
});

describe('lastcall() in a worker', () => {
  beforeEach(() => {
    jest.replaceProperty(cluster, 'isPrimary', false);
  });

  it('runs worker, and started waits for it', async () => {
    let isDone = false;
    const handle = lastcall({
      worker: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        isDone = true;
      },
    });
    expect(handle.role).toBe('worker');
    expect(handle.master).toBeUndefined();
    await expect(handle.started).resolves.toBeUndefined();
    expect(isDone).toBe(true);
    expect(MockedMaster).not.toHaveBeenCalled();
  });

  it('rejects restart() and stop() with NO_MASTER outside a worker forked by a Master', async () => {
    const handle = lastcall({ worker: () => undefined });
    await expect(handle.restart()).rejects.toMatchObject({
      code: 'LASTCALL_ERR_LASTCALL_NO_MASTER',
    });
    await expect(handle.stop()).rejects.toMatchObject({ code: 'LASTCALL_ERR_LASTCALL_NO_MASTER' });
  });
});
