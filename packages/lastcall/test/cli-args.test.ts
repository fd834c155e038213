import { parseCommandLine } from '../src/cli/args';
import { CliFailure, EXIT } from '../src/cli/exit-codes';
import { parseFailure } from './cli-unit-support';

describe('parseCommandLine: start', () => {
  it('reads the script alone with every other option unset', () => {
    expect(parseCommandLine(['start', 'app.js'])).toStrictEqual({
      command: 'start',
      script: 'app.js',
      scriptArgs: [],
      name: undefined,
      pidFile: undefined,
      pidDir: undefined,
      workers: undefined,
      heartbeatPort: undefined,
      heartbeatHost: undefined,
      env: {},
      config: undefined,
    });
  });

  it('reads every flag, and the arguments after -- as the script arguments', () => {
    expect(
      parseCommandLine([
        'start',
        '--workers',
        '4',
        'server.js',
        '--heartbeat-port',
        '8081',
        '--heartbeat-host',
        '0.0.0.0',
        '--pid-file',
        'run/shop.pid',
        '--name',
        '@acme/shop',
        '--env',
        'A=1',
        '--env',
        'B=x=y',
        '--config',
        'conf/prod.json',
        '--',
        '--port',
        '3000',
        'extra',
      ]),
    ).toStrictEqual({
      command: 'start',
      script: 'server.js',
      scriptArgs: ['--port', '3000', 'extra'],
      name: '@acme/shop',
      pidFile: 'run/shop.pid',
      pidDir: undefined,
      workers: 4,
      heartbeatPort: 8081,
      heartbeatHost: '0.0.0.0',
      env: { A: '1', B: 'x=y' },
      config: 'conf/prod.json',
    });
  });

  it('reads --flag=value forms', () => {
    expect(
      parseCommandLine(['start', 'app.js', '--workers=2', '--heartbeat-port=0', '--name=shop']),
    ).toMatchObject({ workers: 2, heartbeatPort: 0, name: 'shop' });
  });

  it('leaves flags and -h after -- to the script', () => {
    expect(
      parseCommandLine(['start', 'app.js', '--', '--workers', '9', '-h', '--', 'x']),
    ).toMatchObject({
      command: 'start',
      workers: undefined,
      scriptArgs: ['--workers', '9', '-h', '--', 'x'],
    });
  });

  it('takes an empty value of --env as the empty string', () => {
    expect(parseCommandLine(['start', 'app.js', '--env', 'EMPTY='])).toMatchObject({
      env: { EMPTY: '' },
    });
  });

  it('lets a later --env of the same key win', () => {
    expect(parseCommandLine(['start', 'app.js', '--env', 'A=1', '--env', 'A=2'])).toMatchObject({
      env: { A: '2' },
    });
  });

  it.each(['NOEQUALS', '=value', '1A=x', 'A-B=x', ' A=x', ''])(
    'refuses --env %j with the KEY=VALUE usage of start',
    (pair) => {
      const failure = parseFailure(['start', 'app.js', '--env', pair]);
      expect(failure.message).toBe(`--env must be KEY=VALUE, got "${pair}"`);
      expect(failure.topic).toBe('start');
      expect(failure.exitCode).toBe(EXIT.usage);
    },
  );

  it.each(['0', 'abc', '1.5', '-1', '', '2x', '1e3', '513', '100000', '9007199254740992'])(
    'refuses --workers=%j',
    (value) => {
      const failure = parseFailure(['start', 'app.js', `--workers=${value}`]);
      expect(failure.message).toBe(
        `--workers must be a whole number from 1 to 512, got "${value}"`,
      );
      expect(failure.topic).toBe('start');
      expect(failure.exitCode).toBe(2);
    },
  );

  it.each(['70000', '65536', '-1', 'http', '80.5'])('refuses --heartbeat-port=%j', (value) => {
    const failure = parseFailure(['start', 'app.js', `--heartbeat-port=${value}`]);
    expect(failure.message).toBe(
      `--heartbeat-port must be a whole number from 0 to 65535, got "${value}"`,
    );
    expect(failure.topic).toBe('start');
  });

  it('accepts --heartbeat-port 0 and 65535', () => {
    expect(parseCommandLine(['start', 'app.js', '--heartbeat-port', '0'])).toMatchObject({
      heartbeatPort: 0,
    });
    expect(parseCommandLine(['start', 'app.js', '--heartbeat-port', '65535'])).toMatchObject({
      heartbeatPort: 65535,
    });
  });

  it.each([
    ['--heartbeat-host=', '--heartbeat-host needs a value'],
    ['--config=', '--config needs a value'],
    ['--name=', '--name needs a value'],
    ['--pid-file=  ', '--pid-file needs a value'],
  ])('refuses the empty value of %s with the usage of start', (flag, message) => {
    const failure = parseFailure(['start', 'app.js', flag]);
    expect(failure.message).toBe(message);
    expect(failure.topic).toBe('start');
  });

  it('refuses a second positional before -- and says where the script arguments go', () => {
    const failure = parseFailure(['start', 'app.js', 'other.js', '--', 'fine']);
    expect(failure.message).toBe(
      'start: unexpected argument "other.js"; pass the script\'s own arguments after --',
    );
    expect(failure.topic).toBe('start');
  });

  it('refuses start without a script, also when the script comes only after --', () => {
    expect(parseFailure(['start']).message).toBe('start: no script given');
    expect(parseFailure(['start', '--workers', '2']).message).toBe('start: no script given');
    expect(parseFailure(['start', '--', 'app.js']).message).toBe('start: no script given');
  });

  it('refuses a flag without its value', () => {
    const failure = parseFailure(['start', 'app.js', '--workers']);
    expect(failure.message).toMatch(/^start: Option '--workers <value>' argument missing/);
    expect(failure.topic).toBe('start');
  });
});

describe('parseCommandLine: reload, stop and status', () => {
  it('waits 900 s for a reload and 120 s for a stop by default', () => {
    expect(parseCommandLine(['reload'])).toStrictEqual({
      command: 'reload',
      name: undefined,
      pidFile: undefined,
      pidDir: undefined,
      timeoutMs: 900_000,
    });
    expect(parseCommandLine(['stop'])).toStrictEqual({
      command: 'stop',
      name: undefined,
      pidFile: undefined,
      pidDir: undefined,
      timeoutMs: 120_000,
      force: false,
    });
  });

  it.each(['reload', 'stop'])('reads --timeout of %s in seconds into timeoutMs', (command) => {
    expect(parseCommandLine([command, '--timeout', '30'])).toMatchObject({ timeoutMs: 30_000 });
    expect(parseCommandLine([command, '--timeout=1.5'])).toMatchObject({ timeoutMs: 1500 });
    expect(parseCommandLine([command, '--timeout', '0.25'])).toMatchObject({ timeoutMs: 250 });
  });

  it.each([
    ['reload', '0'],
    ['reload', '-5'],
    ['stop', 'abc'],
    ['stop', ''],
    ['stop', ' '],
    ['reload', 'Infinity'],
  ] as const)('refuses %s --timeout=%j with the usage of that command', (command, value) => {
    const failure = parseFailure([command, `--timeout=${value}`]);
    expect(failure.message).toBe(`--timeout must be a number of seconds > 0, got "${value}"`);
    expect(failure.topic).toBe(command);
    expect(failure.exitCode).toBe(2);
  });

  it.each(['reload', 'stop', 'status'] as const)('reads --name and --pid-file of %s', (command) => {
    expect(
      parseCommandLine([command, '--name', '@acme/shop', '--pid-file', '/run/shop.pid']),
    ).toMatchObject({ command, name: '@acme/shop', pidFile: '/run/shop.pid' });
  });

  it.each(['reload', 'stop', 'status'] as const)(
    'refuses an empty --name of %s with the usage of that command',
    (command) => {
      const failure = parseFailure([command, '--name=']);
      expect(failure.message).toBe('--name needs a value');
      expect(failure.topic).toBe(command);
    },
  );

  it('reads status --json, and a plain status as a table', () => {
    expect(parseCommandLine(['status', '--json'])).toStrictEqual({
      command: 'status',
      name: undefined,
      pidFile: undefined,
      pidDir: undefined,
      json: true,
    });
    expect(parseCommandLine(['status'])).toMatchObject({ json: false });
  });

  it.each(['reload', 'stop', 'status'] as const)('refuses a positional after %s', (command) => {
    const failure = parseFailure([command, 'shop']);
    expect(failure.message).toMatch(new RegExp(`^${command}: Unexpected argument 'shop'`));
    expect(failure.topic).toBe(command);
  });

  it('refuses --timeout on status and --json on reload', () => {
    expect(parseFailure(['status', '--timeout', '5']).topic).toBe('status');
    expect(parseFailure(['reload', '--json']).topic).toBe('reload');
  });
});

describe('parseCommandLine: help, version and mistakes', () => {
  it.each(['start', 'reload', 'stop', 'status'] as const)(
    'refuses an unknown flag of %s with exit code 2 and the usage of that command',
    (command) => {
      const failure = parseFailure([command, '--bogus']);
      expect(failure).toBeInstanceOf(CliFailure);
      expect(failure.exitCode).toBe(EXIT.usage);
      expect(failure.topic).toBe(command);
      expect(failure.message).toMatch(new RegExp(`^${command}: Unknown option '--bogus'`));
    },
  );

  it('refuses an unknown command with the main usage', () => {
    const failure = parseFailure(['deploy', '--workers', '2']);
    expect(failure.message).toBe('unknown command "deploy"');
    expect(failure.topic).toBeUndefined();
    expect(failure.exitCode).toBe(2);
  });

  it('refuses an empty command line with the main usage', () => {
    const failure = parseFailure([]);
    expect(failure.message).toBe('no command given');
    expect(failure.topic).toBeUndefined();
  });

  it.each([['-h'], ['--help'], ['help']])('reads %s as the main help', (flag) => {
    expect(parseCommandLine([flag])).toStrictEqual({ command: 'help', topic: undefined });
  });

  it.each(['start', 'reload', 'stop', 'status'] as const)(
    'reads help %s, %s -h and %s --help as the help of that command',
    (command) => {
      const help = { command: 'help', topic: command };
      expect(parseCommandLine(['help', command])).toStrictEqual(help);
      expect(parseCommandLine([command, '-h'])).toStrictEqual(help);
      expect(parseCommandLine([command, '--help'])).toStrictEqual(help);
    },
  );

  it('reads -h of start before it asks for a script', () => {
    expect(parseCommandLine(['start', '-h'])).toStrictEqual({ command: 'help', topic: 'start' });
    expect(parseCommandLine(['start', 'app.js', '--workers', '0', '-h'])).toStrictEqual({
      command: 'help',
      topic: 'start',
    });
  });

  it('refuses help of an unknown command', () => {
    const failure = parseFailure(['help', 'deploy']);
    expect(failure.message).toBe('unknown command "deploy"');
    expect(failure.topic).toBeUndefined();
  });

  it.each([['-v'], ['--version']])('reads %s as the version', (flag) => {
    expect(parseCommandLine([flag])).toStrictEqual({ command: 'version' });
  });

  it('names its failures CliFailure, an Error', () => {
    const failure = parseFailure(['deploy']);
    expect(failure).toBeInstanceOf(Error);
    expect(failure.name).toBe('CliFailure');
  });
});
