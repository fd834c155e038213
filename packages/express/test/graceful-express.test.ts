import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vm from 'node:vm';
import express from 'express';
import express5 from 'express5';
import request from 'supertest';
import { Graceful } from '@lastcall/graceful';
import type { Logger } from '@lastcall/log-shim';
import { ExpressError, GracefulExpress, isInProcessTest } from '../src';
import type { GracefulExpressOptions } from '../src';

const made: Graceful[] = [];

const silent = (): void => undefined;
/** A logger that keeps the test output clean. */
const silentLogger: Logger = {
  trace: silent,
  debug: silent,
  info: silent,
  warn: silent,
  error: silent,
  fatal: silent,
  child: () => silentLogger,
};

/** A Graceful that cannot touch the process. */
function quietGraceful(shutdownDelay = 0): Graceful {
  const graceful = new Graceful({
    shutdownDelay,
    logger: silentLogger,
    signals: [],
    handleErrors: false,
    reporter: () => undefined,
    exit: () => undefined,
  });
  made.push(graceful);
  return graceful;
}

afterEach(() => {
  for (const graceful of made.splice(0)) graceful.uninstall();
});

/**
 * What Node does with an error thrown in a timer before the runner's own `uncaughtException`
 * listener fails the test: on Node's process, as jest's `process` is a copy with its own events.
 */
function emitUncaughtMonitor(error: Error): void {
  const nodeProcess = vm.runInThisContext('process') as NodeJS.EventEmitter;
  nodeProcess.emit('uncaughtExceptionMonitor', error, 'uncaughtException');
}

/** A Graceful in the mode jest gets by default, with its error handling, recording seams. */
function testModeGraceful(): { graceful: Graceful; reports: unknown[]; codes: number[] } {
  const reports: unknown[] = [];
  const codes: number[] = [];
  const graceful = new Graceful({
    logger: silentLogger,
    signals: [],
    reporter: (error) => {
      reports.push(error);
    },
    exit: (code) => {
      codes.push(code);
    },
  }).start();
  made.push(graceful);
  return { graceful, reports, codes };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ExpressError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return undefined;
}

describe('new GracefulExpress() options', () => {
  it.each([
    [
      42,
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS: GracefulExpress: options must be an object, got the number 42',
    ],
    [
      { retryafter: 5 },
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS: GracefulExpress: unknown option "retryafter"; expected one of graceful, terminator, retryAfter, inProcessTest',
    ],
    [
      { retryAfter: -1 },
      'LASTCALL_ERR_EXPRESS_INVALID_RETRY_AFTER: GracefulExpress: option "retryAfter" must be a whole number of seconds >= 0, got the number -1',
    ],
    [{ retryAfter: 1.5 }, 'LASTCALL_ERR_EXPRESS_INVALID_RETRY_AFTER'],
    [{ retryAfter: '5' }, 'LASTCALL_ERR_EXPRESS_INVALID_RETRY_AFTER'],
    [
      { graceful: {} },
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS: GracefulExpress: option "graceful" must be a Graceful of @lastcall/graceful (Graceful.start()), got an object',
    ],
    [
      { terminator: 'fast' },
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS: GracefulExpress: option "terminator" must be an object of terminator options',
    ],
    [
      { inProcessTest: 'yes' },
      'LASTCALL_ERR_EXPRESS_INVALID_OPTIONS: GracefulExpress: option "inProcessTest" must be a boolean',
    ],
  ])('rejects %p with a coded message', (options, expected) => {
    expect(codeOf(() => new GracefulExpress(options as GracefulExpressOptions))).toContain(
      expected,
    );
  });

  it('rejects listen() without an app and attach() without a server', () => {
    const ge = new GracefulExpress({ graceful: quietGraceful() });
    expect(codeOf(() => ge.listen(undefined as never, 0))).toBe(
      'LASTCALL_ERR_EXPRESS_INVALID_APP: listen: expected an Express app (a function (req, res)) as the first argument, got undefined',
    );
    expect(codeOf(() => ge.attach({} as never))).toBe(
      'LASTCALL_ERR_EXPRESS_INVALID_SERVER: attach: expected an http or https server, got an object',
    );
    expect(codeOf(() => ge.trackSocket(42 as never))).toBe(
      'LASTCALL_ERR_EXPRESS_INVALID_SOCKET: trackSocket: expected a socket (net.Socket or tls.TLSSocket), got the number 42',
    );
  });
});

describe('inProcessTest', () => {
  afterEach(() => {
    Graceful.instance?.uninstall();
  });

  it('is detected under jest, from its globals', () => {
    expect(isInProcessTest()).toBe(true);
  });

  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ])(
    'with inProcessTest %p, starts the process’s Graceful in that mode (in-process test: %p)',
    (inProcessTest, expected) => {
      const ge = new GracefulExpress(inProcessTest === undefined ? {} : { inProcessTest });
      expect(Graceful.instance).toBe(ge.graceful);
      expect(ge.graceful.isInProcessTest).toBe(expected);
      expect(ge.isInProcessTest).toBe(expected);
    },
  );

  it('takes the mode of a Graceful it is given, unless told otherwise', () => {
    const graceful = quietGraceful();
    expect(graceful.isInProcessTest).toBe(true);
    expect(new GracefulExpress({ graceful }).isInProcessTest).toBe(true);
    expect(new GracefulExpress({ graceful, inProcessTest: false }).isInProcessTest).toBe(false);
  });
});

describe.each([
  ['express 4', express],
  ['express 5', express5],
])('in-process with supertest on %s', (_name, createApp) => {
  function appWith(ge: GracefulExpress): express.Express {
    const app = createApp();
    app.use(ge.middleware);
    app.get('/ready', ge.readiness);
    app.get('/live', ge.liveness);
    app.get('/ok', (_request, response) => {
      response.send('ok');
    });
    app.get('/sync', () => {
      throw new Error('sync boom');
    });
    app.get('/async', () => {
      setTimeout(() => {
        emitUncaughtMonitor(new Error('async boom'));
      }, 5);
    });
    app.use(ge.errorHandler);
    app.use(
      (
        error: Error & { status?: number; headers?: Record<string, string> },
        _request: express.Request,
        response: express.Response,
        _next: express.NextFunction,
      ) => {
        if (error.headers) response.set(error.headers);
        response.status(error.status ?? 500).send(error.message);
      },
    );
    return app;
  }

  it.each([
    [false, { status: 200, retryAfter: undefined, text: 'ok' }],
    [
      true,
      { status: 503, retryAfter: '3', text: 'Service Unavailable: the server is shutting down' },
    ],
  ])(
    'serves, with readiness 200 while running and 503 once shutting down (shedWhileClosing: %p)',
    async (shedWhileClosing, whileClosing) => {
      const graceful = quietGraceful(400);
      const ge = new GracefulExpress({ graceful, retryAfter: 3, shedWhileClosing });
      const app = appWith(ge);
      await request(app).get('/ok').expect(200, 'ok');
      await request(app).get('/ready').expect(200, 'ready\n');
      await request(app).get('/live').expect(200, 'alive\n');
      // Closing: asked from a hook; asserted after the shutdown, as a hook's failure is only logged.
      let closing: request.Response | undefined;
      graceful.onShutdown(async () => {
        closing = await request(app).get('/ok');
      });
      const finished = graceful.shutdown();
      // Draining: still served, with Connection: close; readiness already 503.
      const draining = await request(app).get('/ok');
      expect(draining.status).toBe(200);
      expect(draining.headers['connection']).toBe('close');
      const ready = await request(app).get('/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['retry-after']).toBe('3');
      await finished;
      expect(closing?.status).toBe(whileClosing.status);
      expect(closing?.headers['retry-after']).toBe(whileClosing.retryAfter);
      expect(closing?.headers['connection']).toBe('close');
      expect(closing?.text).toBe(whileClosing.text);
    },
  );

  it('in in-process-test mode, answers an error thrown in a timer of a request with the app’s 500, and neither reports nor shuts down', async () => {
    const { graceful, reports, codes } = testModeGraceful();
    expect(graceful.isInProcessTest).toBe(true);
    const app = appWith(new GracefulExpress({ graceful }));
    const response = await request(app).get('/async');
    expect([response.status, response.text, response.headers['connection']]).toEqual([
      500,
      'async boom',
      'close',
    ]);
    await request(app).get('/ok').expect(200, 'ok');
    expect({ state: graceful.state, reports, codes }).toEqual({
      state: 'running',
      reports: [],
      codes: [],
    });
  });

  it.each([
    [true, { isReady: true, reports: [] }],
    [false, { isReady: false, reports: ['sync boom'] }],
  ])(
    'errorHandler with inProcessTest %p: the thrown route gets the app’s 500; a shutdown starts only outside the test mode',
    async (inProcessTest, expected) => {
      const { graceful, reports } = testModeGraceful();
      const app = appWith(new GracefulExpress({ graceful, inProcessTest }));
      await request(app).get('/sync').expect(500, 'sync boom');
      expect({
        isReady: graceful.isReady,
        reports: reports.map((error) => (error as Error).message),
      }).toEqual(expected);
    },
  );

  it('attach() registers the terminator as a hook: the shutdown closes the server', async () => {
    const graceful = quietGraceful();
    const ge = new GracefulExpress({ graceful });
    const server = ge.attach(http.createServer(appWith(ge)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await request(`http://127.0.0.1:${String(port)}`)
      .get('/ok')
      .expect(200);
    await graceful.shutdown();
    expect(server.listening).toBe(false);
  });
});
