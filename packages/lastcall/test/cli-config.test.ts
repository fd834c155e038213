import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Master } from '@lastcall/master';
import { UsageFailure } from '../src/cli/args';
import { loadConfig } from '../src/cli/config';
import type { FileConfig } from '../src/cli/config';
import { CliFailure, EXIT } from '../src/cli/exit-codes';
import { masterOptions } from '../src/cli/start';
import { masterOptionsFailure, resolved, startArgs } from './cli-unit-support';

const WORKER_PRELOAD = require.resolve('../src/cli/worker-preload');

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder holding `files` (name → content); removed in `afterEach`. */
function folderWith(files: Readonly<Record<string, string>> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-config-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

/** The {@link CliFailure} `loadConfig` rejects with; fails the test when it resolves. */
async function configFailure(cwd: string, explicit?: string): Promise<CliFailure> {
  try {
    await loadConfig(cwd, explicit);
  } catch (error) {
    if (error instanceof CliFailure) return error;
    throw error;
  }
  throw new Error('loadConfig resolved instead of rejecting');
}

describe('loadConfig', () => {
  it('is an empty configuration when no file is present', async () => {
    await expect(loadConfig(folderWith(), undefined)).resolves.toStrictEqual({
      file: undefined,
      config: {},
    });
  });

  it('loads lastcall.config.js exporting an object', async () => {
    const cwd = folderWith({
      'lastcall.config.js': "module.exports = { name: 'shop', workers: 3 };",
    });
    await expect(loadConfig(cwd, undefined)).resolves.toStrictEqual({
      file: path.join(cwd, 'lastcall.config.js'),
      config: { name: 'shop', workers: 3 },
    });
  });

  it('awaits lastcall.config.js exporting an async function', async () => {
    const cwd = folderWith({
      'lastcall.config.js':
        'module.exports = async () => { await new Promise((r) => setImmediate(r)); return { drainTimeout: 1234 }; };',
    });
    await expect(loadConfig(cwd, undefined)).resolves.toMatchObject({
      config: { drainTimeout: 1234 },
    });
  });

  it('calls lastcall.config.js exporting a plain function', async () => {
    const cwd = folderWith({ 'lastcall.config.js': 'module.exports = () => ({ workers: 2 });' });
    await expect(loadConfig(cwd, undefined)).resolves.toMatchObject({ config: { workers: 2 } });
  });

  it('loads lastcall.config.cjs', async () => {
    const cwd = folderWith({ 'lastcall.config.cjs': 'module.exports = { killTimeout: 50 };' });
    await expect(loadConfig(cwd, undefined)).resolves.toStrictEqual({
      file: path.join(cwd, 'lastcall.config.cjs'),
      config: { killTimeout: 50 },
    });
  });

  it('loads lastcall.config.json', async () => {
    const cwd = folderWith({
      'lastcall.config.json': JSON.stringify({ heartbeat: { port: 8081 }, env: { A: '1' } }),
    });
    await expect(loadConfig(cwd, undefined)).resolves.toStrictEqual({
      file: path.join(cwd, 'lastcall.config.json'),
      config: { heartbeat: { port: 8081 }, env: { A: '1' } },
    });
  });

  it('prefers .js over .cjs over .json', async () => {
    const all = folderWith({
      'lastcall.config.js': "module.exports = { name: 'from-js' };",
      'lastcall.config.cjs': "module.exports = { name: 'from-cjs' };",
      'lastcall.config.json': '{ "name": "from-json" }',
    });
    await expect(loadConfig(all, undefined)).resolves.toMatchObject({
      file: path.join(all, 'lastcall.config.js'),
      config: { name: 'from-js' },
    });
    const noJs = folderWith({
      'lastcall.config.cjs': "module.exports = { name: 'from-cjs' };",
      'lastcall.config.json': '{ "name": "from-json" }',
    });
    await expect(loadConfig(noJs, undefined)).resolves.toMatchObject({
      config: { name: 'from-cjs' },
    });
  });

  it('loads an explicit path relative to cwd instead of the default files', async () => {
    const cwd = folderWith({
      'lastcall.config.js': "module.exports = { name: 'default' };",
      'conf/prod.json': '{ "name": "explicit" }',
    });
    await expect(loadConfig(cwd, 'conf/prod.json')).resolves.toStrictEqual({
      file: path.join(cwd, 'conf', 'prod.json'),
      config: { name: 'explicit' },
    });
  });

  it('fails with badConfig (9) naming an explicit file that does not exist', async () => {
    const cwd = folderWith();
    const failure = await configFailure(cwd, 'missing.json');
    expect(failure.exitCode).toBe(EXIT.badConfig);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toBe(`${path.join(cwd, 'missing.json')}: no such file`);
  });

  it('fails with 9 naming a .json file with a syntax error', async () => {
    const cwd = folderWith({ 'lastcall.config.json': '{ "workers": 2, }' });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message.startsWith(`${path.join(cwd, 'lastcall.config.json')}: `)).toBe(true);
    expect(failure.message).toMatch(/JSON/);
  });

  it('fails with 9 naming a .js file that throws', async () => {
    const cwd = folderWith({ 'lastcall.config.js': "throw new Error('no database url');" });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toBe(`${path.join(cwd, 'lastcall.config.js')}: no database url`);
  });

  it('fails with 9 when the exported function rejects', async () => {
    const cwd = folderWith({
      'lastcall.config.js': "module.exports = async () => { throw new Error('vault down'); };",
    });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toBe(`${path.join(cwd, 'lastcall.config.js')}: vault down`);
  });

  it.each(['[1, 2]', '42', 'null', '"workers"'])(
    'fails with 9 for a .json holding %s, not an object',
    async (content) => {
      const cwd = folderWith({ 'lastcall.config.json': content });
      const failure = await configFailure(cwd);
      expect(failure.exitCode).toBe(9);
      expect(failure.message).toMatch(
        new RegExp(
          `^${escape(path.join(cwd, 'lastcall.config.json'))}: expected an object of Master options, got `,
        ),
      );
    },
  );

  it('fails with 9 for a .js function resolving to a non-object', async () => {
    const cwd = folderWith({ 'lastcall.config.js': 'module.exports = async () => undefined;' });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toMatch(/: expected an object of Master options, got /);
  });

  it.each(['""', '"   "', '42', 'false'])('fails with 9 for "name": %s', async (name) => {
    const cwd = folderWith({ 'lastcall.config.json': `{ "name": ${name} }` });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toMatch(
      new RegExp(
        `^${escape(path.join(cwd, 'lastcall.config.json'))}: "name" must be a non-empty string, got `,
      ),
    );
  });

  it.each(['5', '""', 'true', '["a.pid"]'])('fails with 9 for "pidFile": %s', async (pidFile) => {
    const cwd = folderWith({ 'lastcall.config.json': `{ "pidFile": ${pidFile} }` });
    const failure = await configFailure(cwd);
    expect(failure.exitCode).toBe(9);
    expect(failure.message).toMatch(
      new RegExp(
        `^${escape(path.join(cwd, 'lastcall.config.json'))}: "pidFile" must be a path \\(a non-empty string\\), got `,
      ),
    );
  });

  it('fails with 9 when the exported function never settles, at its deadline', async () => {
    const cwd = folderWith({
      'lastcall.config.js': 'module.exports = () => new Promise(() => {});',
    });
    const started = Date.now();
    const failure = await loadConfig(cwd, undefined, 300).then(
      () => new Error('resolved'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CliFailure);
    expect((failure as CliFailure).exitCode).toBe(9);
    expect((failure as CliFailure).message).toBe(
      `${path.join(cwd, 'lastcall.config.js')}: the exported function did not settle within 0.3 s (does it await something that never ends?)`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('masterOptions', () => {
  it('without flags or file: the script, its name, the pid file and the worker preload', () => {
    expect(masterOptions(startArgs(), {}, resolved)).toStrictEqual({
      exec: '/srv/shop/app.js',
      args: [],
      execArgv: ['--require', WORKER_PRELOAD],
      env: { LASTCALL_APP_NAME: 'shop' },
      pidFile: '/run/lastcall/shop.pid',
    });
  });

  it('keeps the options of the file, but not its name, and the resolved pid file wins', () => {
    const config: FileConfig = {
      name: 'from-file',
      drainTimeout: 1000,
      readyTimeout: 2000,
      pidFile: '/elsewhere.pid',
      workers: 2,
    };
    const options = masterOptions(startArgs(), config, resolved);
    expect(options).toMatchObject({ drainTimeout: 1000, readyTimeout: 2000, workers: 2 });
    expect(options).not.toHaveProperty('name');
    expect(options.pidFile).toBe('/run/lastcall/shop.pid');
  });

  it('lets --workers beat the file', () => {
    expect(masterOptions(startArgs('--workers', '4'), { workers: 2 }, resolved).workers).toBe(4);
  });

  it("merges --heartbeat-port and --heartbeat-host over the file's heartbeat", () => {
    const config: FileConfig = {
      heartbeat: { port: 8080, host: '0.0.0.0', path: '/health', minReady: 2 },
    };
    expect(
      masterOptions(startArgs('--heartbeat-port', '9090'), config, resolved).heartbeat,
    ).toStrictEqual({
      port: 9090,
      host: '0.0.0.0',
      path: '/health',
      minReady: 2,
    });
    expect(
      masterOptions(startArgs('--heartbeat-host', '10.0.0.1'), config, resolved).heartbeat,
    ).toStrictEqual({ port: 8080, host: '10.0.0.1', path: '/health', minReady: 2 });
  });

  it("keeps the file's heartbeat as it is without heartbeat flags, and sets none without either", () => {
    const heartbeat = { port: 8080 };
    expect(masterOptions(startArgs(), { heartbeat }, resolved).heartbeat).toBe(heartbeat);
    expect(masterOptions(startArgs(), {}, resolved)).not.toHaveProperty('heartbeat');
  });

  it('builds the heartbeat from the flags alone', () => {
    expect(
      masterOptions(startArgs('--heartbeat-port', '0', '--heartbeat-host', '::1'), {}, resolved)
        .heartbeat,
    ).toStrictEqual({ port: 0, host: '::1' });
  });

  it('refuses --heartbeat-host without a port in flags or file with the usage of start', () => {
    const failure = masterOptionsFailure(startArgs('--heartbeat-host', '0.0.0.0'));
    expect(failure).toBeInstanceOf(UsageFailure);
    expect(failure).toMatchObject({
      exitCode: 2,
      topic: 'start',
      message: '--heartbeat-host needs --heartbeat-port (or heartbeat.port in the configuration)',
    });
  });

  it("leaves a file's heartbeat without a port to Master, which reports the file (exit 9)", () => {
    // Only the flag is a usage error; a bad file is Master's to refuse, as bad configuration.
    const config = { heartbeat: { host: '0.0.0.0' } } as unknown as FileConfig;
    const options = masterOptions(startArgs(), config, resolved);
    expect(options.heartbeat).toStrictEqual({ host: '0.0.0.0' });
    // The constructor validates before anything else: nothing is started here.
    expect(() => new Master(options)).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_OPTIONS' }) as Error,
    );
  });

  it("merges the file's env under --env and always sets LASTCALL_APP_NAME to the name", () => {
    const config: FileConfig = {
      env: { A: 'file', B: 'file', LASTCALL_APP_NAME: 'other' },
    };
    expect(
      masterOptions(startArgs('--env', 'B=flag', '--env', 'C=flag'), config, resolved).env,
    ).toStrictEqual({ A: 'file', B: 'flag', C: 'flag', LASTCALL_APP_NAME: 'shop' });
  });

  it("keeps the file's execArgv, then adds --require of the worker preload", () => {
    const config: FileConfig = { execArgv: ['--max-old-space-size=512', '--enable-source-maps'] };
    expect(masterOptions(startArgs(), config, resolved).execArgv).toStrictEqual([
      '--max-old-space-size=512',
      '--enable-source-maps',
      '--require',
      WORKER_PRELOAD,
    ]);
    expect(fs.existsSync(WORKER_PRELOAD)).toBe(true);
  });

  it("takes the script arguments after -- over the file's args, else the file's", () => {
    const config: FileConfig = { args: ['--from', 'file'] };
    expect(masterOptions(startArgs('--', '--port', '3000'), config, resolved).args).toStrictEqual([
      '--port',
      '3000',
    ]);
    expect(masterOptions(startArgs(), config, resolved).args).toStrictEqual(['--from', 'file']);
  });

  it('runs the resolved script, not an exec of the file', () => {
    expect(masterOptions(startArgs(), { exec: '/other.js' }, resolved).exec).toBe(
      '/srv/shop/app.js',
    );
  });
});
