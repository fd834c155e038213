/**
 * The CLI of issue 19: the start flags --heartbeat-token, --shutdown-delay, --keep-alive-timeout
 * and --headers-timeout (parsed, bounded, mapped onto the master's options, the token never
 * printed), and `lastcall disable` / `lastcall enable` through the control socket, with the
 * rotation line of `status`.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Master } from '@lastcall/master';
import type { HeartbeatBody, MasterOptions } from '@lastcall/master';
import { parseCommandLine, UsageFailure } from '../src/cli/args';
import { askMaster, ControlServer } from '../src/cli/control';
import type { ControlActions, RotationReply, StatusReply } from '../src/cli/control';
import { EXIT } from '../src/cli/exit-codes';
import { runCli } from '../src/cli/main';
import { controlSocketPath } from '../src/cli/paths';
import { masterOptions } from '../src/cli/start';
import { USAGE } from '../src/cli/usage';
import {
  captureIo,
  masterOptionsFailure,
  onCleanup,
  parseFailure,
  READY_WORKER,
  resolved,
  runCleanups,
  serveControl,
  shopStatus,
  startArgs,
  writeLivePidFile,
} from './cli-unit-support';
import type { CapturedIo } from './cli-unit-support';
import { fakeLogger } from './fake-logger';

type MasterClass = typeof Master;

// jest runs in the cluster primary: a Master started here would fork workers of jest itself.
// The mock builds the real one, so that its options are checked, and never lets start() go on.
jest.mock('@lastcall/master', () => {
  const actual = jest.requireActual<{ Master: MasterClass }>('@lastcall/master');
  return {
    ...actual,
    Master: jest.fn((options: MasterOptions) => {
      new actual.Master(options);
      throw new Error('a unit test must not start a Master');
    }),
  };
});

const RealMaster = jest.requireActual<{ Master: MasterClass }>('@lastcall/master').Master;

const TOKEN = 'tok-91c2e7-never-printed';
const appNameBefore = process.env['LASTCALL_APP_NAME'];
const tokenBefore = process.env['LASTCALL_HEARTBEAT_TOKEN'];

afterEach(() => {
  runCleanups();
  jest.mocked(Master).mockClear();
  // start() names the app in process.env just before it builds the master's options.
  if (appNameBefore === undefined) delete process.env['LASTCALL_APP_NAME'];
  else process.env['LASTCALL_APP_NAME'] = appNameBefore;
  if (tokenBefore === undefined) delete process.env['LASTCALL_HEARTBEAT_TOKEN'];
  else process.env['LASTCALL_HEARTBEAT_TOKEN'] = tokenBefore;
});

/** Everything the io printed, out and err. */
function printed(io: CapturedIo): string {
  return [...io.outLines, ...io.errLines].join('\n');
}

function body(overrides: Partial<HeartbeatBody> = {}): HeartbeatBody {
  return {
    status: 'ok',
    workers: { ready: 2, total: 2, failedSlots: 0 },
    uptime: 42,
    version: '1.2.0',
    versions: { '1.2.0': 2 },
    draining: { workers: 0, inFlight: 0 },
    ...overrides,
  };
}

const OUT_OF_ROTATION: RotationReply = {
  disabled: true,
  health: { statusCode: 503, body: body({ status: 'disabled' }) },
};

const IN_ROTATION: RotationReply = { disabled: false, health: { statusCode: 200, body: body() } };

function statusOf(master: Partial<StatusReply['master']>): StatusReply {
  return shopStatus(master, [READY_WORKER]);
}

/** A control server in this process for the master "shop" of `io`. Closed in `afterEach`. */
async function fakeMaster(
  io: CapturedIo,
  actions: Partial<ControlActions>,
): Promise<jest.Mocked<ControlActions>> {
  const mocked = {
    status: jest.fn(() => statusOf({})),
    reload: jest.fn(() => Promise.reject(new Error('reload not faked'))),
    stop: jest.fn((force: boolean) => ({ force, workers: [] })),
    setDisabled: jest.fn((isDisabled: boolean) => (isDisabled ? OUT_OF_ROTATION : IN_ROTATION)),
    ...actions,
  } as jest.Mocked<ControlActions>;
  await serveControl(io, mocked);
  return mocked;
}

/** A master of "shop" that answers every request with `reply` (an older lastcall, say). */
async function scriptedMaster(io: CapturedIo, reply: string): Promise<string[]> {
  const pidFile = writeLivePidFile(io);
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!received.includes('\n')) return;
      requests.push(received.trim());
      socket.end(`${reply}\n`);
    });
    socket.on('close', () => sockets.delete(socket));
  });
  onCleanup(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(controlSocketPath(pidFile, io.env), resolve);
  });
  return requests;
}

describe('parseCommandLine: the start flags of issue 19', () => {
  it('reads --heartbeat-token, --shutdown-delay, --keep-alive-timeout and --headers-timeout', () => {
    expect(
      parseCommandLine([
        'start',
        'app.js',
        '--heartbeat-token',
        TOKEN,
        '--shutdown-delay',
        '5000',
        '--keep-alive-timeout=65000',
        '--headers-timeout',
        '66000',
      ]),
    ).toMatchObject({
      command: 'start',
      heartbeatToken: TOKEN,
      shutdownDelay: 5000,
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
    });
  });

  it('leaves each out of the result when its flag is not given', () => {
    const parsed = parseCommandLine(['start', 'app.js']);
    for (const key of ['heartbeatToken', 'shutdownDelay', 'keepAliveTimeout', 'headersTimeout']) {
      expect(parsed).not.toHaveProperty(key);
    }
  });

  it('takes --shutdown-delay 0 (no delay) up to an hour, and the largest timer value for the others', () => {
    expect(startArgs('--shutdown-delay', '0').shutdownDelay).toBe(0);
    expect(startArgs('--shutdown-delay', '3600000').shutdownDelay).toBe(3_600_000);
    expect(startArgs('--keep-alive-timeout', '1').keepAliveTimeout).toBe(1);
    expect(startArgs('--keep-alive-timeout', '2147483647').keepAliveTimeout).toBe(2 ** 31 - 1);
    expect(startArgs('--headers-timeout', '2147483647').headersTimeout).toBe(2 ** 31 - 1);
  });

  it.each([
    ['--shutdown-delay', '-1', 0, 3_600_000],
    ['--shutdown-delay', '1.5', 0, 3_600_000],
    ['--shutdown-delay', '3s', 0, 3_600_000],
    ['--shutdown-delay', '1e3', 0, 3_600_000],
    ['--shutdown-delay', '', 0, 3_600_000],
    ['--shutdown-delay', '3600001', 0, 3_600_000],
    ['--keep-alive-timeout', '0', 1, 2147483647],
    ['--keep-alive-timeout', 'long', 1, 2147483647],
    ['--keep-alive-timeout', '2147483648', 1, 2147483647],
    ['--headers-timeout', '0', 1, 2147483647],
    ['--headers-timeout', '-66000', 1, 2147483647],
  ] as const)('refuses %s=%j with the usage of start', (flag, value, min, max) => {
    const failure = parseFailure(['start', 'app.js', `${flag}=${value}`]);
    expect(failure.message).toBe(
      `${flag} must be a whole number from ${String(min)} to ${String(max)}, got "${value}"`,
    );
    expect(failure.topic).toBe('start');
    expect(failure.exitCode).toBe(EXIT.usage);
  });

  it.each(['--heartbeat-token=', '--heartbeat-token=   '])(
    'refuses the empty %j with the usage of start',
    (flag) => {
      const failure = parseFailure(['start', 'app.js', flag]);
      expect(failure.message).toBe('--heartbeat-token needs a value');
      expect(failure.topic).toBe('start');
    },
  );

  it('prints a bad value and the usage of start to err and exits 2', async () => {
    const io = captureIo();
    await expect(runCli(['start', 'app.js', '--keep-alive-timeout', '0'], io)).resolves.toBe(2);
    expect(io.errLines).toStrictEqual([
      'lastcall: --keep-alive-timeout must be a whole number from 1 to 2147483647, got "0"\n',
      USAGE.start,
    ]);
    expect(io.outLines).toStrictEqual([]);
  });

  it('documents the four flags in the usage of start', () => {
    for (const flag of [
      '--heartbeat-token <t>',
      '--shutdown-delay <ms>',
      '--keep-alive-timeout <ms>',
      '--headers-timeout <ms>',
    ]) {
      expect(USAGE.start).toContain(flag);
    }
  });
});

describe('parseCommandLine: disable and enable', () => {
  it.each(['disable', 'enable'] as const)(
    'reads %s alone, and with its target flags',
    (command) => {
      expect(parseCommandLine([command])).toStrictEqual({
        command,
        name: undefined,
        pidFile: undefined,
        pidDir: undefined,
      });
      expect(
        parseCommandLine([command, '--name', '@acme/shop', '--pid-file', '/run/shop.pid']),
      ).toStrictEqual({ command, name: '@acme/shop', pidFile: '/run/shop.pid', pidDir: undefined });
      expect(parseCommandLine([command, '--pid-dir=/run/lastcall'])).toMatchObject({
        command,
        pidDir: '/run/lastcall',
      });
    },
  );

  it.each(['disable', 'enable'] as const)(
    'reads help %s, %s -h and %s --help as its help',
    (command) => {
      const help = { command: 'help', topic: command };
      expect(parseCommandLine(['help', command])).toStrictEqual(help);
      expect(parseCommandLine([command, '-h'])).toStrictEqual(help);
      expect(parseCommandLine([command, '--name', 'shop', '--help'])).toStrictEqual(help);
    },
  );

  it.each(['disable', 'enable'] as const)(
    'refuses an unknown flag, --json, a positional and an empty --name of %s with its usage',
    (command) => {
      for (const argv of [
        [command, '--bogus'],
        [command, '--json'],
        [command, 'shop'],
        [command, '--name='],
      ]) {
        const failure = parseFailure(argv);
        expect(failure.topic).toBe(command);
        expect(failure.exitCode).toBe(EXIT.usage);
      }
      expect(parseFailure([command, '--name=']).message).toBe('--name needs a value');
    },
  );

  it.each(['disable', 'enable'] as const)('prints the usage of %s and exits 0', async (command) => {
    for (const argv of [
      ['help', command],
      [command, '--help'],
    ]) {
      const io = captureIo();
      await expect(runCli(argv, io)).resolves.toBe(0);
      expect(io.outLines).toStrictEqual([USAGE[command]]);
    }
    expect(USAGE[command].startsWith(`Usage: lastcall ${command} [options]`)).toBe(true);
    expect(USAGE.main).toMatch(new RegExp(`^  ${command} {2,}\\S`, 'm'));
  });
});

describe('ControlServer: disable and enable', () => {
  async function listening(
    actions: Partial<ControlActions>,
  ): Promise<{ socketPath: string; log: ReturnType<typeof fakeLogger> }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-rotation-'));
    onCleanup(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const socketPath = path.join(dir, 'shop.sock');
    const log = fakeLogger();
    const server = new ControlServer(
      socketPath,
      {
        status: () => statusOf({}),
        reload: () => Promise.reject(new Error('reload not faked')),
        stop: (force) => ({ force, workers: [] }),
        setDisabled: () => {
          throw new Error('setDisabled not faked');
        },
        ...actions,
      },
      log,
    );
    onCleanup(() => {
      server.close();
    });
    await server.listen();
    return { socketPath, log };
  }

  it.each([
    ['disable', true, OUT_OF_ROTATION],
    ['enable', false, IN_ROTATION],
  ] as const)(
    'answers %s with the rotation that setDisabled(%s) returns, and logs the request',
    async (command, isDisabled, rotation) => {
      const setDisabled = jest.fn((_isDisabled: boolean) => rotation);
      const { socketPath, log } = await listening({ setDisabled });
      await expect(askMaster(socketPath, command, 5000)).resolves.toStrictEqual({
        ok: true,
        rotation,
      });
      expect(setDisabled.mock.calls).toStrictEqual([[isDisabled]]);
      expect(log.info).toHaveBeenCalledWith(`${command} asked on the control socket`);
    },
  );

  it("carries a failing setDisabled's code and message", async () => {
    const { socketPath } = await listening({
      setDisabled: () => {
        throw Object.assign(new Error('no heartbeat yet'), { code: 'LASTCALL_ERR_X' });
      },
    });
    await expect(askMaster(socketPath, 'enable', 5000)).resolves.toStrictEqual({
      ok: false,
      error: { code: 'LASTCALL_ERR_X', message: 'no heartbeat yet' },
    });
  });
});

describe('runCli: disable and enable', () => {
  it('disable takes the host out of rotation through the control socket and prints the rotation', async () => {
    const io = captureIo();
    const actions = await fakeMaster(io, {});
    await expect(runCli(['disable', '--name', 'shop'], io)).resolves.toBe(0);
    expect(actions.setDisabled.mock.calls).toStrictEqual([[true]]);
    expect(io.outLines).toStrictEqual([
      'lastcall: shop: rotation: out (disabled); heartbeat 503 disabled, version 1.2.0',
    ]);
    expect(io.errLines).toStrictEqual([]);
  });

  it('enable puts it back and prints the rotation', async () => {
    const io = captureIo();
    const actions = await fakeMaster(io, {});
    await expect(runCli(['enable', '--name', 'shop'], io)).resolves.toBe(0);
    expect(actions.setDisabled.mock.calls).toStrictEqual([[false]]);
    expect(io.outLines).toStrictEqual([
      'lastcall: shop: rotation: in; heartbeat 200 ok, version 1.2.0',
    ]);
  });

  it('prints why the host is out of rotation, an unknown version and the drain telemetry', async () => {
    const io = captureIo();
    await fakeMaster(io, {
      setDisabled: () => ({
        disabled: false,
        health: {
          statusCode: 503,
          body: body({
            status: 'shutting-down',
            version: null,
            versions: {},
            draining: { workers: 2, inFlight: 5 },
          }),
        },
      }),
    });
    await expect(runCli(['enable', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines).toStrictEqual([
      'lastcall: shop: rotation: out (shutting-down); heartbeat 503 shutting-down, version unknown, 2 draining with 5 requests in flight',
    ]);
  });

  it('exits 1 with the message of a failing setDisabled', async () => {
    const io = captureIo();
    await fakeMaster(io, {
      setDisabled: () => {
        throw new Error('no heartbeat yet');
      },
    });
    await expect(runCli(['disable', '--name', 'shop'], io)).resolves.toBe(1);
    expect(io.errLines).toStrictEqual(['lastcall: disable: no heartbeat yet']);
    expect(io.outLines).toStrictEqual([]);
  });

  it('exits 1 on an older master, which answers "unknown request"', async () => {
    const io = captureIo();
    const requests = await scriptedMaster(
      io,
      JSON.stringify({ ok: false, error: { message: 'unknown request {"command":"disable"}' } }),
    );
    await expect(runCli(['disable', '--name', 'shop'], io)).resolves.toBe(1);
    expect(requests).toStrictEqual(['{"command":"disable"}']);
    expect(io.errLines).toStrictEqual([
      `lastcall: disable: the master of "shop" (pid ${String(process.pid)}) does not know disable (an older lastcall)`,
    ]);
    expect(io.outLines).toStrictEqual([]);
  });

  it('exits 1 when the master answers ok without a rotation, naming an older lastcall', async () => {
    const io = captureIo();
    await scriptedMaster(io, '{"ok":true}');
    await expect(runCli(['enable', '--name', 'shop'], io)).resolves.toBe(1);
    expect(io.errLines).toStrictEqual([
      `lastcall: enable: the master of "shop" (pid ${String(process.pid)}) does not know enable (an older lastcall)`,
    ]);
  });

  it.each(['disable', 'enable'])('%s exits 5 without a master', async (command) => {
    const io = captureIo();
    await expect(runCli([command, '--name', 'shop'], io)).resolves.toBe(5);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toMatch(/^lastcall: no master of "shop" is running/);
  });
});

describe('runCli: the rotation in status', () => {
  it('prints the rotation line between the master line and the table', async () => {
    const io = captureIo();
    await fakeMaster(io, {
      status: () =>
        statusOf({
          disabled: true,
          health: { statusCode: 503, body: body({ status: 'disabled' }) },
        }),
    });
    await expect(runCli(['status', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines).toHaveLength(3);
    expect(io.outLines[0]).toMatch(/^shop: master pid \d+, up 3h 2m, /);
    expect(io.outLines[1]).toBe('rotation: out (disabled); heartbeat 503 disabled, version 1.2.0');
    expect(io.outLines[2]).toMatch(/^slot +pid +state/);
  });

  it('says in rotation for a heartbeat 200, with a mixed version', async () => {
    const io = captureIo();
    await fakeMaster(io, {
      status: () =>
        statusOf({
          disabled: false,
          health: {
            statusCode: 200,
            body: body({
              status: 'degraded',
              version: 'mixed',
              versions: { '1.0.0': 1, '1.1.0': 1 },
            }),
          },
        }),
    });
    await expect(runCli(['status', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines[1]).toBe('rotation: in; heartbeat 200 degraded, version mixed');
  });

  it('prints no rotation line for an older master, which sends no health', async () => {
    const io = captureIo();
    await fakeMaster(io, {});
    await expect(runCli(['status', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines).toHaveLength(2);
    expect(printed(io)).not.toContain('rotation');
  });

  it('status --json carries disabled and health', async () => {
    const io = captureIo();
    const health = { statusCode: 503, body: body({ status: 'disabled' }) };
    await fakeMaster(io, { status: () => statusOf({ disabled: true, health }) });
    await expect(runCli(['status', '--name', 'shop', '--json'], io)).resolves.toBe(0);
    const answer = JSON.parse(io.outLines[0]!) as StatusReply;
    expect(answer.master.disabled).toBe(true);
    expect(answer.master.health).toStrictEqual(health);
  });
});

describe('masterOptions: the start flags of issue 19', () => {
  it('maps --shutdown-delay, --keep-alive-timeout and --headers-timeout onto the options', () => {
    const options = masterOptions(
      startArgs(
        '--shutdown-delay',
        '0',
        '--keep-alive-timeout',
        '65000',
        '--headers-timeout',
        '66000',
      ),
      {},
      resolved,
    );
    expect(options).toMatchObject({
      shutdownDelay: 0,
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
    });
  });

  it('leaves them out without the flags (the master reads its environment), and lets a flag beat the file', () => {
    const options = masterOptions(startArgs(), {}, resolved);
    for (const key of ['shutdownDelay', 'keepAliveTimeout', 'headersTimeout']) {
      expect(options).not.toHaveProperty(key);
    }
    const config = { shutdownDelay: 9000, keepAliveTimeout: 70_000 };
    expect(masterOptions(startArgs(), config, resolved)).toMatchObject(config);
    expect(masterOptions(startArgs('--shutdown-delay', '100'), config, resolved)).toMatchObject({
      shutdownDelay: 100,
      keepAliveTimeout: 70_000,
    });
  });

  it("puts --heartbeat-token into the heartbeat, over the file's token", () => {
    expect(
      masterOptions(startArgs('--heartbeat-port', '0', '--heartbeat-token', TOKEN), {}, resolved)
        .heartbeat,
    ).toStrictEqual({ port: 0, token: TOKEN });
    const config = { heartbeat: { port: 8080, host: '0.0.0.0', token: 'from-file' } };
    expect(
      masterOptions(startArgs('--heartbeat-token', TOKEN), config, resolved).heartbeat,
    ).toStrictEqual({ port: 8080, host: '0.0.0.0', token: TOKEN });
    expect(masterOptions(startArgs(), config, resolved).heartbeat).toBe(config.heartbeat);
  });

  it('refuses --heartbeat-token without a port in flags or file, naming the flag, not the token', () => {
    const failure = masterOptionsFailure(startArgs('--heartbeat-token', TOKEN));
    expect(failure).toBeInstanceOf(UsageFailure);
    expect(failure).toMatchObject({
      exitCode: 2,
      topic: 'start',
      message: '--heartbeat-token needs --heartbeat-port (or heartbeat.port in the configuration)',
    });
  });

  it('gives a master whose delay and deadline follow the flags', () => {
    const master = new RealMaster(
      masterOptions(
        startArgs('--shutdown-delay', '4000', '--heartbeat-port', '0', '--heartbeat-host', '::1'),
        { drainTimeout: 10_000, killTimeout: 1000 },
        resolved,
      ),
    );
    expect(master.shutdownDelay).toBe(4000);
    expect(master.gracefulOptions).toStrictEqual({ timeout: 17_000, shutdownDelay: 0 });
    const withHeartbeat = new RealMaster(
      masterOptions(startArgs('--heartbeat-port', '0'), {}, resolved),
    );
    expect(withHeartbeat.shutdownDelay).toBe(3000);
  });
});

describe('runCli start: the heartbeat token is never printed', () => {
  /** `lastcall start app.js --name shop <flags>` with its heartbeat on 0.0.0.0, beyond loopback. */
  function startBeyondLoopback(io: CapturedIo, ...flags: string[]): Promise<number | undefined> {
    return runCli(
      [
        'start',
        'app.js',
        '--name',
        'shop',
        '--heartbeat-port',
        '0',
        '--heartbeat-host',
        '0.0.0.0',
        ...flags,
      ],
      io,
    );
  }

  it('exits 2 for --heartbeat-token without a port, naming the flag only', async () => {
    const io = captureIo({ 'app.js': '' });
    await expect(
      runCli(['start', 'app.js', '--name', 'shop', '--heartbeat-token', TOKEN], io),
    ).resolves.toBe(2);
    expect(io.errLines).toStrictEqual([
      'lastcall: --heartbeat-token needs --heartbeat-port (or heartbeat.port in the configuration)\n',
      USAGE.start,
    ]);
    expect(printed(io)).not.toContain(TOKEN);
    expect(Master).not.toHaveBeenCalled();
  });

  it('exits 9 for a heartbeat beyond loopback without a token, saying where to give one', async () => {
    const io = captureIo({ 'app.js': '' });
    delete process.env['LASTCALL_HEARTBEAT_TOKEN'];
    await expect(startBeyondLoopback(io)).resolves.toBe(9);
    expect(io.errLines).toStrictEqual([
      'lastcall: options: Master: the heartbeat listens on 0.0.0.0, beyond this machine, so its disable and enable routes need a token: set heartbeat.token, LASTCALL_HEARTBEAT_TOKEN or --heartbeat-token',
    ]);
  });

  it.each([
    ['--heartbeat-token', ['--heartbeat-token', TOKEN]],
    ['LASTCALL_HEARTBEAT_TOKEN', []],
  ])('keeps a token given by %s out of the message of a bad configuration', async (_how, flags) => {
    const io = captureIo({
      'app.js': '',
      'lastcall.config.json': JSON.stringify({ heartbeat: { path: '/livez' } }),
    });
    process.env['LASTCALL_HEARTBEAT_TOKEN'] = TOKEN;
    await expect(startBeyondLoopback(io, ...flags)).resolves.toBe(9);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toContain('option "heartbeat.path" must be not /readyz or /livez');
    expect(printed(io)).not.toContain(TOKEN);
  });
});
