/**
 * Under a test runner, lastcall never exits the runner's process: an error in an endpoint tested
 * in process with supertest is the failure of a test, and the runner prints its own report and
 * exit code. Real mocha, jest and `node --test` runs, as child processes, of the same cases
 * (fixtures/in-process-test/cases.js) against an app with `new GracefulExpress()` loaded by name.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures', 'in-process-test');
const BIN = path.join(REPO, 'node_modules', '.bin');

/** A runner's run takes a second or two here; this bounds one, within jest's 30 s per test. */
const RUN_LIMIT = 25_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-in-process-'));
  tempDirs.push(dir);
  return dir;
}

/**
 * Runs `node <args>` in `cwd` with a bare environment (PATH, HOME, a crash log in `cwd`, and
 * `env`) to its end; kills it and rejects after {@link RUN_LIMIT}.
 */
function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      PATH: process.env['PATH'],
      HOME: cwd,
      LASTCALL_CRASH_LOG: path.join(cwd, 'crash.log'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `node ${args.join(' ')} did not end within ${String(RUN_LIMIT)} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, RUN_LIMIT);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Lines that only graceful's exit path and last-ditch's crash report write. */
function exitTraces(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /exiting with \d+|"level":"fatal"|exiting at once/.test(line));
}

function countOf(text: string, part: string): number {
  return text.split(part).length - 1;
}

const TEST_MODE_LINE = (runner: string): string =>
  `lastcall:graceful in-process test (${runner}): no signal or uncaught-error handler that exits ` +
  'is installed, and shutdown() does not exit; errors are left to the test runner';

describe('mocha', () => {
  it('prints its own summary and exits with its failure count: the error in a timer fails the test that made it', async () => {
    const cwd = makeTempDir();
    const run = await runNode(
      [
        path.join(BIN, 'mocha'),
        '--no-config',
        '--no-package',
        path.join(FIXTURES, 'mocha.spec.js'),
      ],
      cwd,
    );
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 3, signal: null });
    expect(run.stdout).toMatch(/^ {2}3 passing \(\d+ms\)$/m);
    expect(run.stdout).toMatch(/^ {2}3 failing$/m);
    expect(run.stdout).toMatch(
      /1\) an app tested in process\n\s+expects 200 from the route that throws:\n\s+Error: expected 200 "OK", got 500 "Internal Server Error"/,
    );
    // Mocha fails the running test on the uncaught error, and once more when its request, which
    // GracefulExpress answered with the app's 500, settles after that failure.
    expect(run.stdout).toMatch(
      /2\) an app tested in process\n\s+calls the route that throws in a timer:\n\s+Uncaught Error: async boom/,
    );
    expect(run.stdout).toMatch(
      /3\) an app tested in process\n\s+calls the route that throws in a timer:\n\s+Error: done\(\) called multiple times/,
    );
    expect(run.stdout).toMatch(/✔ is still ready and answering after the errors/);
    expect(countOf(run.stderr, TEST_MODE_LINE('mocha'))).toBe(1);
    expect(exitTraces(run.stdout + run.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(cwd, 'crash.log'))).toBe(false);
  });

  it('with inProcessTest: false given, lastcall exits mocha with 1 before its summary, as asked', async () => {
    const cwd = makeTempDir();
    const run = await runNode(
      [
        path.join(BIN, 'mocha'),
        '--no-config',
        '--no-package',
        path.join(FIXTURES, 'mocha-not-in-test.spec.js'),
      ],
      cwd,
    );
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 1, signal: null });
    expect(run.stdout).toMatch(/✔ answers \/ok/);
    expect(run.stdout).not.toMatch(/passing|failing/);
    expect(run.stderr).toMatch(/lastcall:graceful exiting with 1 /);
    expect(run.stderr).not.toContain('in-process test');
    expect(fs.readFileSync(path.join(cwd, 'crash.log'), 'utf8')).toContain('"message":"sync boom"');
  });
});

describe('jest', () => {
  it('prints its own summary and exits 1: the error in a timer fails the test that made it', async () => {
    const cwd = makeTempDir();
    // A config of its own, so that the repo's projects are not picked up.
    const config = {
      testEnvironment: 'node',
      transform: {},
      testMatch: ['<rootDir>/jest.spec.js'],
    };
    const run = await runNode(
      [
        path.join(BIN, 'jest'),
        '--ci',
        '--no-watchman',
        '--cacheDirectory',
        path.join(cwd, 'jest-cache'),
        '--rootDir',
        FIXTURES,
        '--config',
        JSON.stringify(config),
      ],
      cwd,
    );
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 1, signal: null });
    expect(run.stderr).toMatch(/^Tests: +2 failed, 3 passed, 5 total$/m);
    expect(run.stderr).toMatch(/✕ calls the route that throws in a timer/);
    expect(run.stderr).toMatch(
      /● an app tested in process › calls the route that throws in a timer\n\n\s+async boom\n/,
    );
    expect(run.stderr).toMatch(
      /● an app tested in process › expects 200 from the route that throws\n\n\s+expected 200 "OK", got 500 "Internal Server Error"/,
    );
    expect(run.stderr).toMatch(/✓ is still ready and answering after the errors/);
    expect(countOf(run.stderr, TEST_MODE_LINE('jest'))).toBe(1);
    expect(exitTraces(run.stdout + run.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(cwd, 'crash.log'))).toBe(false);
  });
});

describe('node --test', () => {
  it('prints its own summary and exits 1: the error in a timer is reported by the runner', async () => {
    const cwd = makeTempDir();
    const run = await runNode(
      ['--test', '--test-reporter=tap', path.join(FIXTURES, 'node-test.spec.js')],
      cwd,
    );
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 1, signal: null });
    expect(run.stdout).toMatch(/^# pass 4$/m);
    expect(run.stdout).toMatch(/^# fail 1$/m);
    expect(run.stdout).toMatch(/^ {4}not ok 3 - expects 200 from the route that throws$/m);
    // node:test ties an uncaught error to a test by the async resource that threw: a timer set
    // by a request is none of its tests, so it reports the error for the run, which fails.
    expect(run.stdout).toMatch(/^ {4}ok 4 - calls the route that throws in a timer$/m);
    expect(run.stdout).toContain(
      '# Error: A resource generated asynchronous activity after the test ended. This activity ' +
        'created the error "Error: async boom" which triggered an uncaughtException event, caught ' +
        'by the test runner.',
    );
    expect(run.stdout).toMatch(/^ {4}ok 5 - is still ready and answering after the errors$/m);
    expect(countOf(run.stdout, TEST_MODE_LINE('node:test'))).toBe(1);
    expect(exitTraces(run.stdout + run.stderr)).toEqual([]);
    expect(fs.existsSync(path.join(cwd, 'crash.log'))).toBe(false);
  });
});

describe('a process that is not a runner’s', () => {
  it('is an app even with the environment of every runner, inherited from its test: it exits 1 on a crash', async () => {
    const cwd = makeTempDir();
    const run = await runNode([path.join(FIXTURES, 'plain-app.js')], cwd, {
      PLAIN_APP: 'crash',
      JEST_WORKER_ID: '1',
      NODE_TEST_CONTEXT: 'child-v8',
      VITEST: 'true',
    });
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 1, signal: null });
    expect(run.stdout).toBe('{"isInProcessTest":false,"mode":false}\n');
    expect(run.stderr).toMatch(/lastcall:graceful exiting with 1 /);
    expect(fs.readFileSync(path.join(cwd, 'crash.log'), 'utf8')).toContain('"message":"app boom"');
  });

  it('with inProcessTest: true given, runs the shutdown hooks and does not exit', async () => {
    const cwd = makeTempDir();
    const run = await runNode([path.join(FIXTURES, 'plain-app.js')], cwd, {
      PLAIN_APP: 'shutdown-in-test-mode',
    });
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.stdout).toBe(
      '{"event":"hook"}\n' +
        '{"event":"shutdown resolved","state":"exiting"}\n' +
        '{"event":"still running"}\n',
    );
    expect(countOf(run.stderr, TEST_MODE_LINE('the option inProcessTest'))).toBe(1);
    expect(exitTraces(run.stderr)).toEqual([]);
  });
});
