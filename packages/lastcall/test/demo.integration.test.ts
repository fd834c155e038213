/**
 * examples/demo, as `npm start` runs it: the demo app under the real CLI, with its hints printed,
 * `/` from both workers, `/crash` costing only its own request, and SIGTERM draining everything
 * with exit 0. Then the root README's quick start, word for word: `npm start` as a new user types
 * it, every command line the demo prints, and the README's `npx lastcall status | reload | stop`,
 * which must find the demo's master with no flag.
 *
 * Each demo runs in a process group of its own, killed whole when a test ends, so that a failing
 * test never leaves a master (and its workers) behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { get, startLoad } from '../../master/test/support';
import { cliEnv, freePort, killClis, makeTempDir, trackGroup } from './cli-support';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const START = path.join(ROOT, 'examples', 'demo', 'start.js');
const HINTS_HEADING = 'Try, in another terminal, in this repo:';

afterEach(killClis);

interface Demo {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code, or 'still running' after `ms`. */
  exited(ms: number): Promise<number | null | 'still running'>;
  /** Waits (bounded) until stdout holds `text`; throws with the output otherwise. */
  waitFor(text: string, ms: number): Promise<void>;
}

/** Starts `file args` (or a shell line) in a process group of its own. */
function startDemo(command: readonly string[], env: NodeJS.ProcessEnv): Demo {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('no command');
  const child = spawn(file, args, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackGroup(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: (ms) =>
      Promise.race([
        exit,
        new Promise<'still running'>((resolve) =>
          setTimeout(() => resolve('still running'), ms).unref(),
        ),
      ]),
    waitFor: async (text, ms) => {
      const deadline = Date.now() + ms;
      while (!stdout.includes(text) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!stdout.includes(text)) {
        throw new Error(
          `no "${text}" within ${String(ms)} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        );
      }
    },
  };
}

/** The environment of a demo on free ports, with a run folder and crash log of the test's own. */
async function demoEnv(): Promise<{ env: NodeJS.ProcessEnv; port: number; heartbeatPort: number }> {
  const [port, heartbeatPort] = [await freePort(), await freePort()];
  const cwd = makeTempDir();
  return {
    port,
    heartbeatPort,
    env: cliEnv(path.join(cwd, 'run'), {
      HOME: process.env['HOME'],
      PORT: String(port),
      HEARTBEAT_PORT: String(heartbeatPort),
      LASTCALL_LOG_LEVEL: 'warn',
      LASTCALL_CRASH_LOG: path.join(cwd, 'crash.log'),
    }),
  };
}

/** The command lines of a block of `command   # comment` lines, comments dropped. */
function commandLines(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** The command lines of the README's quick start (its first `sh` block). */
function readmeQuickStart(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no sh block under "## Quick start"');
  return commandLines(block);
}

/** The command lines the demo printed under its hints heading. */
function printedHints(stdout: string): string[] {
  const after = stdout.split(`${HINTS_HEADING}\n`)[1] ?? '';
  return commandLines(after.split('\n\n')[0] ?? '');
}

/** Runs one command line as a user types it, in the repo, bounded. */
function runLine(
  line: string,
  env: NodeJS.ProcessEnv,
): { status: number | null; output: string; stderr: string } {
  const result = spawnSync('sh', ['-c', line], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { status: result.status, output: result.stdout, stderr: result.stderr };
}

it('runs the demo: hints, two workers, a crash that costs one request, SIGTERM exits 0', async () => {
  const { env, port } = await demoEnv();
  const demo = startDemo([process.execPath, START], env);
  await demo.waitFor(HINTS_HEADING, 30_000);
  expect(demo.stdout()).toContain(`2 workers on http://127.0.0.1:${String(port)}`);
  expect(printedHints(demo.stdout())).toContain('npx lastcall reload');

  const greetings = new Set<string>();
  for (let attempt = 0; attempt < 100 && greetings.size < 2; attempt += 1) {
    const answer = await get(port, '/');
    if ('body' in answer) greetings.add(answer.body.replace(/ \(pid \d+\)/, ''));
  }
  expect([...greetings].sort()).toEqual(['hello from worker 0\n', 'hello from worker 1\n']);

  const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
  const crash = await get(port, '/crash');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const tally = await load.stop();
  expect(crash).toMatchObject({ status: 500 });
  expect(tally.errors).toEqual([]);
  expect(tally.statuses).toEqual([]);
  expect(tally.ok).toBeGreaterThan(50);

  demo.child.kill('SIGTERM');
  expect(await demo.exited(15_000)).toBe(0);
});

it("runs the README's quick start word for word: npm start, the demo's hints, npx lastcall status, reload, stop", async () => {
  const lines = readmeQuickStart();
  // `npm install` is what made this checkout (CI runs it first) and `npm test` is what runs this
  // test; every other line runs here exactly as printed.
  expect(lines).toEqual([
    'npm install && npm start',
    'npx lastcall status',
    'npx lastcall reload',
    'npx lastcall stop',
    'npm test',
  ]);
  const { env, port, heartbeatPort } = await demoEnv();
  const demo = startDemo(['sh', '-c', 'npm start'], env);
  await demo.waitFor(HINTS_HEADING, 90_000);

  const hints = printedHints(demo.stdout());
  expect(hints).toEqual([
    `curl http://127.0.0.1:${String(port)}/`,
    `curl 'http://127.0.0.1:${String(port)}/slow?ms=3000'`,
    `curl http://127.0.0.1:${String(port)}/crash`,
    `curl http://127.0.0.1:${String(heartbeatPort)}/ecv`,
    'npx lastcall status',
    'npx lastcall reload',
    'npx lastcall stop',
  ]);

  const expected: readonly [string, RegExp][] = [
    [hints[0]!, /^hello from worker [01] \(pid \d+\)\n$/],
    [hints[1]!, /^slept 3000 ms in worker [01] \(pid \d+\)\n$/],
    [hints[2]!, /^500: this request crashed worker [01] \(pid \d+\); the others are fine\n$/],
    [hints[3]!, /^\{"status":"\w+","workers":\{"ready":\d,"total":2\b/],
    // Just after /crash, slot 0's replacement may still be starting.
    ['npx lastcall status', /^slot +pid +state\b[\s\S]*\n0 +\d+ +\w+[\s\S]*\n1 +\d+ +\w+/m],
    ['npx lastcall reload', /\d+ → \d+/],
    ['npx lastcall status', /\n0 +\d+ +ready\b[\s\S]*\n1 +\d+ +ready\b/],
  ];
  for (const [line, output] of expected) {
    const result = runLine(line, env);
    expect({ line, status: result.status, stderr: result.stderr }).toEqual({
      line,
      status: 0,
      stderr: line.startsWith('curl') ? (expect.any(String) as unknown) : '',
    });
    expect({ line, output: result.output }).toEqual({
      line,
      output: expect.stringMatching(output) as unknown,
    });
  }

  const stop = runLine('npx lastcall stop', env);
  expect({ status: stop.status, output: stop.output, stderr: stop.stderr }).toEqual({
    status: 0,
    output: expect.stringMatching(
      /^lastcall: stopped lastcall-monorepo \(master pid \d+\)\n$/,
    ) as unknown,
    stderr: '',
  });
  expect(await demo.exited(30_000)).toBe(0);
  expect(runLine('npx lastcall status', env).status).toBe(5);
});
