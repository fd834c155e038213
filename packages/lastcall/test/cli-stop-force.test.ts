/**
 * Issue 18 in the command line: `stop --force` (the flag, the control request and its answer)
 * and `--pid-dir` / `pidDir` (where the master's pid file is looked for, what `start` passes on).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Master } from '@lastcall/master';
import type { MasterError } from '@lastcall/master';
import { parseCommandLine, UsageFailure } from '../src/cli/args';
import type { StartArgs } from '../src/cli/args';
import { loadConfig } from '../src/cli/config';
import { askMaster, ControlServer } from '../src/cli/control';
import type { ControlActions, RotationReply, StopReply } from '../src/cli/control';
import { CliFailure, EXIT } from '../src/cli/exit-codes';
import { runCli } from '../src/cli/main';
import { controlSocketPath, listRunning, masterPidFile } from '../src/cli/paths';
import { masterOptions } from '../src/cli/start';
import { fakeLogger } from './fake-logger';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-stop-force-'));
  cleanups.push(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const STOPPING: StopReply = {
  force: true,
  workers: [
    { slot: 0, pid: 5001 },
    { slot: 1, pid: 5002 },
  ],
};

function fakeActions(stop: ControlActions['stop']): jest.Mocked<ControlActions> {
  return {
    status: jest.fn(() => {
      throw new Error('status not faked');
    }),
    reload: jest.fn(() => Promise.reject(new Error('reload not faked'))),
    stop: jest.fn(stop),
    setDisabled: jest.fn((_isDisabled: boolean): RotationReply => {
      throw new Error('setDisabled not faked');
    }),
  };
}

async function listen(socketPath: string, actions: ControlActions): Promise<void> {
  const server = new ControlServer(socketPath, actions, fakeLogger());
  cleanups.push(() => {
    server.close();
  });
  await server.listen();
}

/** Sends `line` as it is and resolves with the whole answer. */
function sendRaw(socketPath: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(line));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

describe('parseCommandLine: stop --force and --pid-dir', () => {
  it('reads stop --force, and a plain stop as the graceful one', () => {
    expect(parseCommandLine(['stop', '--force', '--name', 'shop'])).toStrictEqual({
      command: 'stop',
      name: 'shop',
      pidFile: undefined,
      pidDir: undefined,
      timeoutMs: 120_000,
      force: true,
    });
    expect(parseCommandLine(['stop'])).toMatchObject({ force: false });
  });

  it('refuses --force on reload, with the usage of reload', () => {
    let failure: unknown;
    try {
      parseCommandLine(['reload', '--force']);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(UsageFailure);
    expect((failure as UsageFailure).topic).toBe('reload');
    expect((failure as UsageFailure).exitCode).toBe(EXIT.usage);
    expect((failure as UsageFailure).message).toMatch(/^reload: Unknown option '--force'/);
  });

  it.each(['start', 'reload', 'stop', 'status'] as const)('reads --pid-dir of %s', (command) => {
    const argv = command === 'start' ? ['start', 'app.js'] : [command];
    expect(parseCommandLine([...argv, '--pid-dir', 'run/pids'])).toMatchObject({
      command,
      pidDir: 'run/pids',
    });
    let failure: unknown;
    try {
      parseCommandLine([...argv, '--pid-dir=']);
    } catch (error) {
      failure = error;
    }
    expect((failure as UsageFailure).message).toBe('--pid-dir needs a value');
  });
});

describe('the control request stop, with force', () => {
  it('begins the forced stop for "force":true and answers what it stops', async () => {
    const socketPath = path.join(makeTempDir(), 'shop.sock');
    const actions = fakeActions(() => STOPPING);
    await listen(socketPath, actions);
    await expect(askMaster(socketPath, 'stop', 5000, { force: true })).resolves.toStrictEqual({
      ok: true,
      stopping: STOPPING,
    });
    expect(actions.stop).toHaveBeenCalledTimes(1);
    expect(actions.stop).toHaveBeenCalledWith(true);
  });

  it('begins the graceful stop for a stop without force, or with "force":false', async () => {
    const socketPath = path.join(makeTempDir(), 'shop.sock');
    const actions = fakeActions((force) => ({ force, workers: [] }));
    await listen(socketPath, actions);
    await expect(askMaster(socketPath, 'stop', 5000)).resolves.toStrictEqual({
      ok: true,
      stopping: { force: false, workers: [] },
    });
    await expect(sendRaw(socketPath, '{"command":"stop","force":false}\n')).resolves.toBe(
      '{"ok":true,"stopping":{"force":false,"workers":[]}}\n',
    );
    expect(actions.stop.mock.calls).toEqual([[false], [false]]);
  });

  it.each([
    ['"yes"', 'the string "yes"'],
    ['1', 'the number 1'],
    ['null', 'null'],
  ])('refuses "force":%s without stopping anything', async (value, described) => {
    const socketPath = path.join(makeTempDir(), 'shop.sock');
    const actions = fakeActions(() => STOPPING);
    await listen(socketPath, actions);
    const answer = await sendRaw(socketPath, `{"command":"stop","force":${value}}\n`);
    expect(JSON.parse(answer)).toStrictEqual({
      ok: false,
      error: { message: `stop: "force" must be true or false, got ${described}` },
    });
    expect(actions.stop).not.toHaveBeenCalled();
  });
});

describe('runCli: stop --force', () => {
  /** A control server of "shop" in this (live) process, as `lastcall start` would listen. */
  async function fakeShop(stop: ControlActions['stop']): Promise<{
    io: Parameters<typeof runCli>[1];
    out: string[];
    err: string[];
    actions: jest.Mocked<ControlActions>;
  }> {
    const cwd = makeTempDir();
    const env = { LASTCALL_RUN_DIR: path.join(cwd, 'run') };
    const pidFile = masterPidFile('shop', undefined, env);
    fs.mkdirSync(path.dirname(pidFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(pidFile, `${String(process.pid)}\n`);
    const actions = fakeActions(stop);
    await listen(controlSocketPath(pidFile, env), actions);
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      cwd,
      env,
      out: (line: string) => out.push(line),
      err: (line: string) => err.push(line),
      version: '1.2.3',
    };
    return { io, out, err, actions };
  }

  it('fails with exit 1 when the master answers a forced stop with a graceful one (an older master)', async () => {
    const shop = await fakeShop(() => undefined as unknown as StopReply);
    await expect(runCli(['stop', '--force', '--name', 'shop'], shop.io)).resolves.toBe(EXIT.failed);
    expect(shop.actions.stop).toHaveBeenCalledWith(true);
    expect(shop.err).toEqual([
      `lastcall: stop --force: the master of "shop" (pid ${String(process.pid)}) does not know the forced stop (an older lastcall); it began a graceful stop instead. Wait for it, or kill its workers yourself`,
    ]);
    expect(shop.out).toEqual([]);
  });

  it('asks for the forced stop, then waits for the master to exit like the graceful stop', async () => {
    const shop = await fakeShop(() => STOPPING);
    // This process is the "master": it never exits, so the wait ends at --timeout.
    await expect(
      runCli(['stop', '--force', '--name', 'shop', '--timeout', '0.3'], shop.io),
    ).resolves.toBe(EXIT.timeout);
    expect(shop.actions.stop.mock.calls).toEqual([[true]]);
  });
});

describe('--pid-dir and pidDir', () => {
  it("puts the master's pid file in the pid folder, under its file-safe name", () => {
    expect(masterPidFile('@acme/shop', 'run/pids', {})).toBe(
      path.join('run/pids', 'acme-shop.pid'),
    );
    expect(masterPidFile('shop', undefined, { LASTCALL_RUN_DIR: '/r' })).toBe('/r/shop.pid');
  });

  it("lists a master's worker pid files in the run folder as no master of their own", () => {
    const runDir = makeTempDir();
    for (const [name, pid] of [
      ['shop.pid', process.pid],
      ['shop-worker-0.pid', process.pid],
      ['lone-worker-1.pid', process.pid],
    ] as const) {
      fs.writeFileSync(path.join(runDir, name), `${String(pid)}\n`);
    }
    expect(listRunning({ LASTCALL_RUN_DIR: runDir })).toEqual([
      { name: 'lone-worker-1', pid: process.pid },
      { name: 'shop', pid: process.pid },
    ]);
  });

  it('passes the pid folder on to the master, beside the pid file', () => {
    const args = parseCommandLine(['start', 'app.js']) as StartArgs;
    const options = masterOptions(
      args,
      {},
      { script: '/srv/app.js', name: 'shop', pidFile: '/p/shop.pid', pidDir: '/p' },
    );
    expect(options).toMatchObject({ pidFile: '/p/shop.pid', pidDir: '/p' });
    expect(
      masterOptions(args, {}, { script: '/srv/app.js', name: 'shop', pidFile: '/r/shop.pid' }),
    ).not.toHaveProperty('pidDir');
  });

  it.each([
    ['', 'the string ""'],
    [' ', 'the string " "'],
    [42, 'the number 42'],
  ])('refuses "pidDir": %j in the configuration file', async (value, described) => {
    const cwd = makeTempDir();
    const file = path.join(cwd, 'lastcall.config.json');
    fs.writeFileSync(file, JSON.stringify({ pidDir: value }));
    const failure = await loadConfig(cwd, undefined).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CliFailure);
    expect((failure as CliFailure).exitCode).toBe(EXIT.badConfig);
    expect((failure as CliFailure).message).toBe(
      `${file}: "pidDir" must be a path (a non-empty string), got ${described}`,
    );
  });
});

describe('Master.stop(options)', () => {
  it.each([[{ force: 'yes' }], [{ force: 1 }], [null], ['force']])(
    'rejects %j with LASTCALL_ERR_MASTER_INVALID_OPTIONS, stopping nothing',
    async (options) => {
      const master = new Master({ workers: 1 });
      const failure = (await master.stop(options as { force?: boolean }).then(
        () => undefined,
        (error: unknown) => error,
      )) as MasterError | undefined;
      expect(failure?.code).toBe('LASTCALL_ERR_MASTER_INVALID_OPTIONS');
      expect(failure?.message).toMatch(
        /^Master\.stop\(\): options must be \{ force\?: boolean \}, got /,
      );
    },
  );
});
