import * as fs from 'node:fs';
import * as path from 'node:path';
import { Master, MasterError } from '@lastcall/master';
import type { RestartReport, WorkerInfo } from '@lastcall/master';
import type { ControlActions, StatusReply } from '../src/cli/control';
import { runCli } from '../src/cli/main';
import { duration, table } from '../src/cli/remote';
import { USAGE } from '../src/cli/usage';
import {
  captureIo,
  READY_WORKER,
  runCleanups,
  serveControl,
  shopStatus,
  writeLivePidFile,
} from './cli-unit-support';
import type { CapturedIo } from './cli-unit-support';

// jest runs in the cluster primary: a Master created here would fork workers of jest itself.
// Every start below must fail before it gets that far; this mock makes sure it did.
jest.mock('@lastcall/master', () => ({
  ...jest.requireActual<Record<string, unknown>>('@lastcall/master'),
  Master: jest.fn(() => {
    throw new Error('a unit test must not create a Master');
  }),
}));

afterEach(() => {
  runCleanups();
  jest.mocked(Master).mockClear();
});

const WORKERS: WorkerInfo[] = [
  READY_WORKER,
  {
    slot: 1,
    port: undefined,
    id: 2,
    pid: undefined,
    state: 'starting',
    uptime: 0,
    restarts: 3,
    rss: undefined,
    requests: 0,
    connections: 0,
    lastExit: undefined,
  },
];

const TABLE = [
  'slot  pid   state     uptime  restarts  memory    requests  connections',
  '0     4242  ready     1m 5s   0         50.0 MiB  1200      3',
  '1     -     starting  0s      3         -         0         0',
].join('\n');

/**
 * A control server in this process for the master "shop" of `io`: its pid file names this
 * process (alive), its socket is where the commands look. Closed in `afterEach`.
 */
async function fakeMaster(io: CapturedIo, actions: Partial<ControlActions>): Promise<void> {
  const status = shopStatus({ script: path.join(io.cwd, 'app.js') }, WORKERS);
  await serveControl(io, {
    status: () => status,
    reload: () => Promise.reject(new Error('reload not faked')),
    stop: (force) => ({ force, workers: [] }),
    setDisabled: () => {
      throw new Error('setDisabled not faked');
    },
    ...actions,
  });
}

describe('runCli: help and version', () => {
  it.each([[['--help']], [['-h']], [['help']]])(
    'prints the main usage for %j and exits 0',
    async (argv) => {
      const io = captureIo();
      await expect(runCli(argv, io)).resolves.toBe(0);
      expect(io.outLines).toStrictEqual([USAGE.main]);
      expect(io.errLines).toStrictEqual([]);
    },
  );

  it.each(['start', 'reload', 'stop', 'status'] as const)(
    'prints the usage of %s for help, -h and --help, and exits 0',
    async (command) => {
      for (const argv of [
        ['help', command],
        [command, '-h'],
        [command, '--help'],
      ]) {
        const io = captureIo();
        await expect(runCli(argv, io)).resolves.toBe(0);
        expect(io.outLines).toStrictEqual([USAGE[command]]);
        expect(io.errLines).toStrictEqual([]);
      }
      expect(USAGE[command].startsWith(`Usage: lastcall ${command} `)).toBe(true);
    },
  );

  it('prints the version and exits 0', async () => {
    const io = captureIo();
    await expect(runCli(['--version'], io)).resolves.toBe(0);
    expect(io.outLines).toStrictEqual(['1.2.3']);
  });
});

describe('runCli: usage errors', () => {
  it.each([
    [[], 'lastcall: no command given\n', 'main'],
    [['deploy'], 'lastcall: unknown command "deploy"\n', 'main'],
    [['help', 'deploy'], 'lastcall: unknown command "deploy"\n', 'main'],
    [
      ['start', 'app.js', '--workers', '0'],
      'lastcall: --workers must be a whole number from 1 to 512, got "0"\n',
      'start',
    ],
    [
      ['stop', '--timeout', 'soon'],
      'lastcall: --timeout must be a number of seconds > 0, got "soon"\n',
      'stop',
    ],
    [['status', '--name='], 'lastcall: --name needs a value\n', 'status'],
  ] as const)(
    'prints the message and usage to err for %j and exits 2',
    async (argv, message, topic) => {
      const io = captureIo();
      await expect(runCli(argv, io)).resolves.toBe(2);
      expect(io.errLines).toStrictEqual([message, USAGE[topic]]);
      expect(io.outLines).toStrictEqual([]);
    },
  );

  it("prints parseArgs' message for an unknown flag, then the command's usage", async () => {
    const io = captureIo();
    await expect(runCli(['reload', '--bogus'], io)).resolves.toBe(2);
    expect(io.errLines).toHaveLength(2);
    expect(io.errLines[0]).toMatch(/^lastcall: reload: Unknown option '--bogus'/);
    expect(io.errLines[1]).toBe(USAGE.reload);
  });
});

describe('runCli: reload, stop and status without a master', () => {
  it.each(['reload', 'stop', 'status'])(
    '%s exits 5 with one line naming the name and the pid file',
    async (command) => {
      const io = captureIo();
      await expect(runCli([command, '--name', '@acme/shop'], io)).resolves.toBe(5);
      expect(io.errLines).toStrictEqual([
        `lastcall: no master of "@acme/shop" is running (no live process in ${path.join(io.runDir, 'acme-shop.pid')}; start it with \`lastcall start\`, or give --name or --pid-file)`,
      ]);
      expect(io.outLines).toStrictEqual([]);
    },
  );

  it('names the masters that do run in the run folder, and acts on none of them', async () => {
    const io = captureIo({ 'run/stale.pid': '999999999\n' });
    writeLivePidFile(io, 'lastcall-demo');
    writeLivePidFile(io, 'cart');
    await expect(runCli(['stop', '--name', 'shop'], io)).resolves.toBe(5);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toMatch(
      new RegExp(
        `or give --name or --pid-file\\); running: cart \\(pid ${String(process.pid)}\\), lastcall-demo \\(pid ${String(process.pid)}\\)$`,
      ),
    );
  });

  it('takes the name from LASTCALL_APP_NAME of the io env', async () => {
    const io = captureIo({}, { LASTCALL_APP_NAME: 'cart' });
    await expect(runCli(['status'], io)).resolves.toBe(5);
    expect(io.errLines[0]).toMatch(
      new RegExp(
        `^lastcall: no master of "cart" is running \\(no live process in ${io.runDir}/cart\\.pid;`,
      ),
    );
  });

  it('looks at a --pid-file relative to cwd', async () => {
    const io = captureIo();
    await expect(runCli(['stop', '--pid-file', 'var/app.pid', '--name', 'shop'], io)).resolves.toBe(
      5,
    );
    expect(io.errLines[0]).toContain(`no live process in ${path.join(io.cwd, 'var', 'app.pid')};`);
  });

  it('exits 5 for a stale pid file', async () => {
    const io = captureIo({ 'run/shop.pid': 'not a pid\n' });
    await expect(runCli(['reload', '--name', 'shop'], io)).resolves.toBe(5);
    expect(io.errLines).toHaveLength(1);
  });

  it('exits 5 when the pid is alive but nothing answers on its control socket', async () => {
    const io = captureIo();
    writeLivePidFile(io);
    await expect(runCli(['status', '--name', 'shop'], io)).resolves.toBe(5);
    expect(io.errLines).toStrictEqual([
      `lastcall: the master of "shop" (pid ${String(process.pid)}) does not answer on ${path.join(io.runDir, 'shop.sock')}: is it still starting, or not started by \`lastcall start\`?`,
    ]);
  });
});

describe('runCli: reload, stop and status of a master', () => {
  it('status prints the master line and the table of its workers', async () => {
    const io = captureIo();
    await fakeMaster(io, {});
    await expect(runCli(['status', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines).toStrictEqual([
      `shop: master pid ${String(process.pid)}, up 3h 2m, app.js, heartbeat 127.0.0.1:8081`,
      TABLE,
    ]);
    expect(io.errLines).toStrictEqual([]);
  });

  it('status --json prints the status as JSON', async () => {
    const io = captureIo();
    await fakeMaster(io, {});
    await expect(runCli(['status', '--name', 'shop', '--json'], io)).resolves.toBe(0);
    expect(io.outLines).toHaveLength(1);
    const printed = JSON.parse(io.outLines[0]!) as StatusReply;
    expect(printed.master.name).toBe('shop');
    expect(printed.workers.map((worker) => worker.pid)).toStrictEqual([4242, undefined]);
    expect(io.outLines[0]).toContain('\n  "master": {');
  });

  it('reload prints the replaced pids and exits 0', async () => {
    const io = captureIo();
    const report = {
      replaced: [
        { slot: 0, oldPid: 11, newPid: 21 },
        { slot: 1, oldPid: undefined, newPid: 22 },
      ],
      duration: 1540,
    } as RestartReport;
    await fakeMaster(io, { reload: () => Promise.resolve(report) });
    await expect(runCli(['reload', '--name', 'shop'], io)).resolves.toBe(0);
    expect(io.outLines).toStrictEqual([
      'lastcall: reloaded 2 workers of shop in 1.5 s (11 → 21, - → 22)',
    ]);
  });

  it('reload exits 6 when the rolling restart aborted, 1 for another failure', async () => {
    const aborted = captureIo();
    await fakeMaster(aborted, {
      reload: () =>
        Promise.reject(new MasterError('LASTCALL_ERR_MASTER_RESTART_ABORTED', 'slot 0 crashed')),
    });
    await expect(runCli(['reload', '--name', 'shop'], aborted)).resolves.toBe(6);
    expect(aborted.errLines).toStrictEqual(['lastcall: reload: slot 0 crashed']);

    const failed = captureIo();
    await fakeMaster(failed, { reload: () => Promise.reject(new Error('busy')) });
    await expect(runCli(['reload', '--name', 'shop'], failed)).resolves.toBe(1);
    expect(failed.errLines).toStrictEqual(['lastcall: reload: busy']);
  });

  it('stop asks for the stop, then exits 10 when the master outlives --timeout', async () => {
    const io = captureIo();
    const stop = jest.fn();
    await fakeMaster(io, { stop });
    const startedAt = Date.now();
    await expect(runCli(['stop', '--name', 'shop', '--timeout', '0.2'], io)).resolves.toBe(10);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(io.errLines).toStrictEqual([
      `lastcall: stop: the master (pid ${String(process.pid)}) still runs after 0.2 s; its workers may still be draining`,
    ]);
  });
});

describe('runCli: start failures before any master', () => {
  const appNameBefore = process.env['LASTCALL_APP_NAME'];

  afterEach(() => {
    expect(Master).not.toHaveBeenCalled();
    // start names the app in process.env only once it is about to create the master.
    expect(process.env['LASTCALL_APP_NAME']).toBe(appNameBefore);
  });

  it('exits 3 for a missing script, naming its absolute path', async () => {
    const io = captureIo();
    await expect(runCli(['start', 'missing.js'], io)).resolves.toBe(3);
    expect(io.errLines).toStrictEqual([
      `lastcall: script not found: ${path.join(io.cwd, 'missing.js')}`,
    ]);
  });

  it('exits 3 for a script that is a folder', async () => {
    const io = captureIo({ 'app/index.js': '' });
    await expect(runCli(['start', 'app'], io)).resolves.toBe(3);
    expect(io.errLines).toStrictEqual([`lastcall: script not found: ${path.join(io.cwd, 'app')}`]);
  });

  it('exits 9 for a configuration file with a syntax error, naming it', async () => {
    const io = captureIo({ 'app.js': '', 'lastcall.config.json': '{ "workers": ' });
    await expect(runCli(['start', 'app.js'], io)).resolves.toBe(9);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toMatch(
      new RegExp(`^lastcall: ${path.join(io.cwd, 'lastcall.config.json')}: `),
    );
  });

  it('exits 9 for a --config that does not exist', async () => {
    const io = captureIo({ 'app.js': '' });
    await expect(runCli(['start', 'app.js', '--config', 'prod.js'], io)).resolves.toBe(9);
    expect(io.errLines).toStrictEqual([`lastcall: ${path.join(io.cwd, 'prod.js')}: no such file`]);
  });

  it('exits 9 for a configuration whose name is not a string', async () => {
    const io = captureIo({ 'app.js': '', 'lastcall.config.js': 'module.exports = { name: 7 };' });
    await expect(runCli(['start', 'app.js'], io)).resolves.toBe(9);
    expect(io.errLines).toStrictEqual([
      `lastcall: ${path.join(io.cwd, 'lastcall.config.js')}: "name" must be a non-empty string, got the number 7`,
    ]);
  });

  it('exits 8 when the pid file names a live process', async () => {
    const io = captureIo({ 'app.js': '' });
    const pidFile = path.join(io.runDir, 'shop.pid');
    // Another live process: its own pid is a pid file a killed master left (a restarted PID 1).
    fs.mkdirSync(io.runDir, { recursive: true });
    fs.writeFileSync(pidFile, `${String(process.ppid)}\n`);
    await expect(runCli(['start', 'app.js', '--name', 'shop'], io)).resolves.toBe(8);
    expect(io.errLines).toStrictEqual([
      `lastcall: a master of "shop" is running already (pid ${String(process.ppid)}, pid file ${pidFile})`,
    ]);
  });
});

describe('duration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [42_000, '42s'],
    [59_999, '59s'],
    [60_000, '1m 0s'],
    [310_000, '5m 10s'],
    [3_599_999, '59m 59s'],
    [3_600_000, '1h 0m'],
    [3 * 3_600_000 + 2 * 60_000, '3h 2m'],
    [48 * 3_600_000 - 1, '47h 59m'],
    [48 * 3_600_000, '2d 0h'],
    [(3 * 24 + 5) * 3_600_000, '3d 5h'],
  ])('formats %d ms as %j', (ms, expected) => {
    expect(duration(ms)).toBe(expected);
  });
});

describe('table', () => {
  it('aligns the workers under the header, - for what is not known yet', () => {
    expect(table(WORKERS)).toBe(TABLE);
  });

  it('is the header alone without workers', () => {
    expect(table([])).toBe('slot  pid  state  uptime  restarts  memory  requests  connections');
  });
});
