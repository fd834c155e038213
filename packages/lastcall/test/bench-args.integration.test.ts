/**
 * Every bench under tools/bench prints its usage on `--help` (exit 0), and a flag it does not
 * know gets one line, the usage and exit 2 on stderr, never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

const BENCHES = [
  'tools/bench/cluster/run.js',
  'tools/bench/cluster/run-one.js',
  'tools/bench/terminator/run.js',
  'tools/bench/log-shim/run.js',
  'tools/bench/express/cpu.js',
  'tools/bench/express/crash-load.js',
  'tools/bench/master/throughput.js',
  'tools/bench/master/restarts.js',
  'tools/bench/worker-start/run.js',
];

function bench(file: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [file, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe.each(BENCHES)('%s', (file) => {
  it('prints its usage on --help and exits 0', () => {
    const { code, out, err } = bench(file, '--help');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/^usage: node /i);
    expect(out).toContain('--help');
  });

  it('exits 2 on an unknown flag, with the flag and the usage, and no stack trace', () => {
    const { code, out, err } = bench(file, '--no-such-flag');
    expect({ code, out }).toEqual({ code: 2, out: '' });
    expect(err).toContain('--no-such-flag');
    expect(err).toMatch(/\nusage: node /i);
    expect(err).not.toMatch(/\n\s+at /);
  });
});

it('exits 2 with the usage for a manager the cluster bench does not know', () => {
  const { code, err } = bench('tools/bench/cluster/run.js', '--managers', 'nosuch');
  expect(code).toBe(2);
  expect(err).toContain('unknown manager nosuch');
  expect(err).toMatch(/\nusage: node /i);
});

it('exits 2 with the usage for a manager or a scenario run-one does not know', () => {
  for (const [args, message] of [
    [['nosuch'], 'unknown manager nosuch'],
    [['lastcall', 'Z9'], 'unknown scenario Z9'],
    [['lastcall', 'R1', 'extra'], 'unexpected argument extra'],
  ] as const) {
    const { code, err } = bench('tools/bench/cluster/run-one.js', ...args);
    expect({ code, message: err.includes(message) }).toEqual({ code: 2, message: true });
    expect(err).toMatch(/\nusage: node /i);
  }
});
