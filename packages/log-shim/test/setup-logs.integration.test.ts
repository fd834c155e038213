/**
 * setupLogs and reopenLogs in real processes: the fixtures in test/fixtures load
 * `@lastcall/log-shim` by name (the built package, so run `npm run build` first) and write into a
 * temp folder that this file reads back.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withTimeout } from './support';

/** One JSON line a fixture printed on stdout. */
interface FixtureMessage {
  readonly event: string;
  readonly [key: string]: unknown;
}

interface Fixture {
  readonly child: ChildProcess;
  /** Resolves with the first message of `event`, already printed or still to come. */
  message(event: string, ms: number): Promise<FixtureMessage>;
  /** Resolves with the exit code and signal once the child has exited. */
  exited(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** `<role>-<ISO timestamp with - for : and .>-<pid>.log`, as setupLogs names its files. */
const TIMESTAMP = String.raw`\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z`;
/** Generous for 2 shared cores; three Node processes start in the cluster fixture. */
const START_MS = 20_000;

const running = new Set<ChildProcess>();
let tempDir: string;

beforeEach(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-shim-integration-'));
});

afterEach(() => {
  for (const child of running) {
    // The cluster fixture's workers are its children: SIGKILL to the whole process group.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  }
  running.clear();
  fs.rmSync(tempDir, { recursive: true, force: true });
});

function startFixture(script: string, args: readonly string[]): Fixture {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so afterEach can kill the cluster workers with their primary.
    detached: true,
  });
  running.add(child);
  const messages: FixtureMessage[] = [];
  const listeners = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = stdout.split('\n');
    stdout = lines.pop() ?? '';
    for (const line of lines) {
      if (line !== '') messages.push(JSON.parse(line) as FixtureMessage);
    }
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return {
    child,
    message: (event, ms) =>
      withTimeout(
        new Promise<FixtureMessage>((resolve) => {
          const check = (): void => {
            const found = messages.find((message) => message.event === event);
            if (found === undefined) return;
            listeners.delete(check);
            resolve(found);
          };
          listeners.add(check);
          check();
        }),
        ms,
        `"${event}" from ${script} (stderr: ${stderr})`,
      ),
    exited: (ms) => withTimeout(exit, ms, `${script} to exit (stderr: ${stderr})`),
    stderr: () => stderr,
  };
}

function readLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('setupLogs in a node:cluster app', () => {
  it('gives the primary and each worker its own file, master-… and worker-<id>-…, holding its own line', async () => {
    const fixture = startFixture('cluster-logs.js', [tempDir]);
    const done = await fixture.message('done', START_MS);
    expect(await fixture.exited(5000)).toEqual({ code: 0, signal: null });
    expect(fixture.stderr()).toBe('');

    const primaryPid = fixture.child.pid ?? 0;
    const workers = done['workers'] as { id: number; pid: number; code: number }[];
    expect(done['pid']).toBe(primaryPid);
    expect(workers.map(({ id, code }) => ({ id, code }))).toEqual([
      { id: 1, code: 0 },
      { id: 2, code: 0 },
    ]);
    const expected = [
      { role: 'master', pid: primaryPid },
      ...workers.map(({ id, pid }) => ({ role: `worker-${String(id)}`, pid })),
    ];

    const names = fs.readdirSync(tempDir).sort();
    expect(names).toHaveLength(3);
    for (const name of names) expect(name).not.toContain(':');
    for (const { role, pid } of expected) {
      const pattern = new RegExp(`^${role}-${TIMESTAMP}-${String(pid)}\\.log$`);
      const matching = names.filter((name) => pattern.test(name));
      expect({ role, matching: matching.length }).toEqual({ role, matching: 1 });
      const file = path.join(tempDir, matching[0] ?? '');
      expect(readLines(file)).toEqual([
        {
          level: 'info',
          message: 'hello',
          name: 'fixture',
          pid,
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
        },
      ]);
    }
  });
});

describe('reopenLogs in a real process', () => {
  it('writes to a new file at the same path after logrotate renamed the old one, losing no line', async () => {
    const before = 500;
    const after = 300;
    const fixture = startFixture('rotate-logs.js', [tempDir, String(before), String(after)]);
    const written = await fixture.message('written', START_MS);
    const file = String(written['file']);
    const rotated = `${file}.1`;
    fs.renameSync(file, rotated);

    fixture.child.kill('SIGUSR2');
    await fixture.message('done', 5000);
    expect(await fixture.exited(5000)).toEqual({ code: 0, signal: null });
    expect(fixture.stderr()).toBe('');

    expect(fs.readdirSync(tempDir).sort()).toEqual(
      [path.basename(file), path.basename(rotated)].sort(),
    );
    const seqs = (lines: Record<string, unknown>[]): unknown[] => lines.map((line) => line['seq']);
    const range = (from: number, count: number): number[] =>
      Array.from({ length: count }, (_, index) => from + index);
    expect(seqs(readLines(rotated))).toEqual(range(0, before));
    expect(seqs(readLines(file))).toEqual(range(before, after));
    expect(readLines(rotated).length + readLines(file).length).toBe(before + after);
  });
});
