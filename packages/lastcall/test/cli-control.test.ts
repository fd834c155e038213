import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { MasterError } from '@lastcall/master';
import type { RestartReport } from '@lastcall/master';
import { spawnSync } from 'node:child_process';
import {
  askMaster,
  CONTROL_IDLE_TIMEOUT,
  ControlServer,
  MAX_CONTROL_CLIENTS,
} from '../src/cli/control';
import type { ControlActions, StatusReply } from '../src/cli/control';
import { CliFailure, EXIT } from '../src/cli/exit-codes';
import { fakeLogger } from './fake-logger';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-control-'));
  cleanups.push(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const STATUS: StatusReply = {
  master: {
    pid: 4242,
    name: 'shop',
    script: '/srv/shop/app.js',
    uptime: 65_000,
    heartbeat: { address: '127.0.0.1', port: 8081 },
  },
  workers: [
    {
      slot: 0,
      port: undefined,
      id: 1,
      pid: 5001,
      state: 'ready',
      uptime: 60_000,
      restarts: 0,
      rss: 50 * 2 ** 20,
      requests: 12,
      connections: 1,
      lastExit: undefined,
    },
  ],
};

const REPORT: RestartReport = {
  replaced: [{ slot: 0, oldPid: 5001, newPid: 5002 }],
  duration: 1500,
};

function fakeActions(overrides: Partial<ControlActions> = {}): jest.Mocked<ControlActions> {
  return {
    status: jest.fn(() => STATUS),
    reload: jest.fn(() => Promise.resolve(REPORT)),
    stop: jest.fn(),
    ...overrides,
  } as jest.Mocked<ControlActions>;
}

/** A ControlServer listening on a socket in a fresh temp folder; closed in `afterEach`. */
async function listenControl(
  actions: ControlActions,
  log = fakeLogger(),
): Promise<{ socketPath: string; server: ControlServer }> {
  const socketPath = path.join(makeTempDir(), 'shop.sock');
  const server = new ControlServer(socketPath, actions, log);
  cleanups.push(() => {
    server.close();
  });
  await server.listen();
  return { socketPath, server };
}

/** A plain unix socket server that hands each connection to `onConnection`. */
async function listenRaw(onConnection: (socket: net.Socket) => void): Promise<string> {
  const socketPath = path.join(makeTempDir(), 'raw.sock');
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return socketPath;
}

/** Sends `payload` as it is and resolves with all the server wrote before it closed. */
function sendRaw(socketPath: string, payload: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${String(ms)} ms; got ${JSON.stringify(received)}`));
    }, ms);
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** The {@link CliFailure} `promise` rejects with; fails the test when it resolves. */
async function failureOf(promise: Promise<unknown>): Promise<CliFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CliFailure) return error;
    throw error;
  }
  throw new Error('resolved instead of rejecting');
}

describe('ControlServer', () => {
  it('answers status with the status of the actions', async () => {
    const actions = fakeActions();
    const { socketPath } = await listenControl(actions);
    // JSON carries no undefined fields: the status as it crossed the socket.
    await expect(askMaster(socketPath, 'status', 5000)).resolves.toStrictEqual({
      ok: true,
      status: JSON.parse(JSON.stringify(STATUS)) as StatusReply,
    });
    expect(actions.status).toHaveBeenCalledTimes(1);
  });

  it('answers reload with the restart report once the reload is done, and logs the request', async () => {
    const actions = fakeActions();
    const log = fakeLogger();
    const { socketPath } = await listenControl(actions, log);
    await expect(askMaster(socketPath, 'reload', 5000)).resolves.toStrictEqual({
      ok: true,
      report: REPORT,
    });
    expect(actions.reload).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith('reload asked on the control socket');
  });

  it("carries a rejected reload's code and message", async () => {
    const actions = fakeActions({
      reload: () =>
        Promise.reject(
          new MasterError('LASTCALL_ERR_MASTER_RESTART_ABORTED', 'slot 0 crashed at start'),
        ),
    });
    const { socketPath } = await listenControl(actions);
    await expect(askMaster(socketPath, 'reload', 5000)).resolves.toStrictEqual({
      ok: false,
      error: { code: 'LASTCALL_ERR_MASTER_RESTART_ABORTED', message: 'slot 0 crashed at start' },
    });
  });

  it('answers a failure without a code with its message only', async () => {
    const actions = fakeActions({
      status: () => {
        throw new Error('not yet');
      },
    });
    const { socketPath } = await listenControl(actions);
    await expect(askMaster(socketPath, 'status', 5000)).resolves.toStrictEqual({
      ok: false,
      error: { message: 'not yet' },
    });
  });

  it('answers stop at once after beginning the stop', async () => {
    const actions = fakeActions();
    const { socketPath } = await listenControl(actions);
    await expect(askMaster(socketPath, 'stop', 5000)).resolves.toStrictEqual({ ok: true });
    expect(actions.stop).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['{"command":"restart"}\n', 'unknown request {"command":"restart"}'],
    ['hello\n', 'unknown request hello'],
    ['null\n', 'unknown request null'],
  ])('answers ok:false to the unknown request %j, one JSON line', async (request, message) => {
    const actions = fakeActions();
    const { socketPath } = await listenControl(actions);
    const answer = await sendRaw(socketPath, request);
    expect(answer).toBe(`${JSON.stringify({ ok: false, error: { message } })}\n`);
    expect(actions.status).not.toHaveBeenCalled();
    expect(actions.reload).not.toHaveBeenCalled();
    expect(actions.stop).not.toHaveBeenCalled();
  });

  it('reads a request sent in pieces up to its newline', async () => {
    const { socketPath } = await listenControl(fakeActions());
    const socket = net.connect(socketPath);
    cleanups.push(() => socket.destroy());
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.write('{"comm');
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.write('and":"stop"}\n');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close within 5 s')), 5000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect(answer).toBe('{"ok":true}\n');
  });

  it('cuts off a client that sends more than 4096 bytes without a newline', async () => {
    const actions = fakeActions();
    const { socketPath } = await listenControl(actions);
    await expect(sendRaw(socketPath, 'x'.repeat(5000))).resolves.toBe('');
    expect(actions.status).not.toHaveBeenCalled();
  });

  it('replaces a stale socket file on listen', async () => {
    const socketPath = path.join(makeTempDir(), 'shop.sock');
    fs.writeFileSync(socketPath, 'left behind by a killed master');
    const server = new ControlServer(socketPath, fakeActions(), fakeLogger());
    cleanups.push(() => {
      server.close();
    });
    await server.listen();
    expect(fs.statSync(socketPath).isSocket()).toBe(true);
    await expect(askMaster(socketPath, 'stop', 5000)).resolves.toStrictEqual({ ok: true });
  });

  it('creates its socket with mode 0600 from the start, whatever the umask, and restores the umask', async () => {
    const socketPath = path.join(makeTempDir(), 'shop.sock');
    const server = new ControlServer(socketPath, fakeActions(), fakeLogger());
    cleanups.push(() => {
      server.close();
    });
    const umask = process.umask(0);
    try {
      const listening = server.listen();
      // The bind is synchronous: the socket exists, with its final mode, before listen() returns.
      expect(fs.lstatSync(socketPath).mode & 0o777).toBe(0o600);
      await listening;
      // The umask in force again is the one set before listen(): what process.umask(x) returns.
      expect(process.umask(0)).toBe(0);
    } finally {
      process.umask(umask);
    }
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    expect(fs.lstatSync(socketPath).mode & 0o777).toBe(0o600);
  });

  it('cuts off a client that sends nothing, or half a line, within its idle timeout', async () => {
    const { socketPath } = await listenControl(fakeActions());
    const closedAfter = async (send: string): Promise<number> => {
      const started = Date.now();
      const client = net.connect(socketPath);
      cleanups.push(() => client.destroy());
      client.on('error', () => undefined);
      client.on('connect', () => client.write(send));
      await new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => {
          reject(new Error('still open after 4 idle timeouts'));
        }, 4 * CONTROL_IDLE_TIMEOUT);
        client.on('close', () => {
          clearTimeout(guard);
          resolve();
        });
      });
      return Date.now() - started;
    };
    const [silent, half] = await Promise.all([closedAfter(''), closedAfter('{"command":"sta')]);
    expect(silent).toBeGreaterThanOrEqual(CONTROL_IDLE_TIMEOUT - 100);
    expect(half).toBeGreaterThanOrEqual(CONTROL_IDLE_TIMEOUT - 100);
  });

  it(`serves at most ${String(MAX_CONTROL_CLIENTS)} clients at once and refuses the next`, async () => {
    const { socketPath } = await listenControl(fakeActions());
    const idle: net.Socket[] = [];
    for (let index = 0; index < MAX_CONTROL_CLIENTS; index += 1) {
      const client = net.connect(socketPath);
      client.on('error', () => undefined);
      cleanups.push(() => client.destroy());
      idle.push(client);
      await new Promise((resolve) => client.once('connect', resolve));
    }
    // The server counts a connection once it has accepted it: let it catch up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await failureOf(askMaster(socketPath, 'status', 5000));
    expect(refused.exitCode).toBe(EXIT.failed);
    expect(refused.message).toMatch(/closed the control socket without an answer|EPIPE|ECONNRESET/);
    for (const client of idle) client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(askMaster(socketPath, 'stop', 5000)).resolves.toStrictEqual({ ok: true });
  });

  it('removes its socket file on close, after which nothing answers', async () => {
    const { socketPath, server } = await listenControl(fakeActions());
    server.close();
    expect(fs.existsSync(socketPath)).toBe(false);
    const failure = await failureOf(askMaster(socketPath, 'status', 5000));
    expect(failure.exitCode).toBe(EXIT.notRunning);
  });

  it('leaves the socket of another master alone when it closes without having listened', async () => {
    // A start that loses the pid-file race closes its control server before it ever listened.
    const { socketPath } = await listenControl(fakeActions());
    const loser = new ControlServer(socketPath, fakeActions(), fakeLogger());
    loser.close();
    expect(fs.statSync(socketPath).isSocket()).toBe(true);
    await expect(askMaster(socketPath, 'stop', 5000)).resolves.toStrictEqual({ ok: true });
  });
});

describe('askMaster', () => {
  it('fails with notRunning (5) when no socket file exists', async () => {
    const socketPath = path.join(makeTempDir(), 'none.sock');
    const failure = await failureOf(askMaster(socketPath, 'status', 5000));
    expect(failure.exitCode).toBe(EXIT.notRunning);
    expect(failure.exitCode).toBe(5);
    expect(failure.message).toBe(`no master listens on ${socketPath}`);
  });

  it('fails with notRunning (5) when the socket file is stale', async () => {
    const socketPath = path.join(makeTempDir(), 'stale.sock');
    // A socket file whose listener died without removing it: bound here, never listened on.
    const bound = spawnSync(
      process.execPath,
      [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ],
      { timeout: 10_000 },
    );
    expect(bound.signal).toBe('SIGKILL');
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    const failure = await failureOf(askMaster(socketPath, 'reload', 5000));
    expect(failure.exitCode).toBe(5);
  });

  it('refuses (11) to talk to a file that is not a socket, and to a socket in a folder others can write', async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'fake.sock'), '');
    const notSocket = await failureOf(askMaster(path.join(dir, 'fake.sock'), 'reload', 5000));
    expect(notSocket.exitCode).toBe(EXIT.unsafeRunDir);
    const actions = fakeActions();
    const { socketPath } = await listenControl(actions);
    fs.chmodSync(path.dirname(socketPath), 0o777);
    const open = await failureOf(askMaster(socketPath, 'reload', 5000));
    expect(open.exitCode).toBe(EXIT.unsafeRunDir);
    expect(open.message).toMatch(/^LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR: .*mode 0777/);
    expect(actions.reload).not.toHaveBeenCalled();
  });

  it('sends one JSON line with the command', async () => {
    let received = '';
    const socketPath = await listenRaw((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes('\n')) socket.end('{"ok":true}\n');
      });
    });
    await expect(askMaster(socketPath, 'reload', 5000)).resolves.toStrictEqual({ ok: true });
    expect(received).toBe('{"command":"reload"}\n');
  });

  it('fails with timeout (10) within its bound when the master never answers', async () => {
    const socketPath = await listenRaw(() => undefined);
    const startedAt = Date.now();
    const failure = await failureOf(askMaster(socketPath, 'reload', 200));
    const elapsed = Date.now() - startedAt;
    expect(failure.exitCode).toBe(EXIT.timeout);
    expect(failure.exitCode).toBe(10);
    expect(failure.message).toBe('reload: no answer from the master within 0.2 s');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails with failed (1) when the master closes without an answer', async () => {
    const socketPath = await listenRaw((socket) => {
      socket.on('data', () => socket.end());
    });
    const failure = await failureOf(askMaster(socketPath, 'status', 5000));
    expect(failure.exitCode).toBe(EXIT.failed);
    expect(failure.message).toBe(
      'status: the master closed the control socket without an answer (did it exit?)',
    );
  });

  it('fails with failed (1) when the answer is not JSON', async () => {
    const socketPath = await listenRaw((socket) => {
      socket.on('data', () => socket.end('<html>\n'));
    });
    const failure = await failureOf(askMaster(socketPath, 'stop', 5000));
    expect(failure.exitCode).toBe(1);
  });
});
