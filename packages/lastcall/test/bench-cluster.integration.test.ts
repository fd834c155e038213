/**
 * The cluster bench must not rot: one short R1 (every client) and C1 for lastcall only, through
 * the harness itself (tools/bench/cluster/run.js), into a temp folder.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killClis, makeTempDir } from './cli-support';

afterEach(killClis);

const RUN = path.resolve(__dirname, '..', '..', '..', 'tools', 'bench', 'cluster', 'run.js');

interface BenchRecord {
  manager: string;
  scenario: string;
  client: string;
  failed: number;
  completed: number;
  error?: string;
  reloadCode?: number;
  replacementMs?: number;
  errors?: number;
  unanswered?: number;
}

it('runs R1 and C1 for lastcall and writes the report, the records and the charts', async () => {
  const out = makeTempDir();
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [RUN, '--managers', 'lastcall', '--scenarios', 'R1,C1', '--reps', '1', '--out', out],
      { timeout: 120_000, env: { PATH: process.env['PATH'], HOME: process.env['HOME'] } },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : Number(error.code ?? 1),
          output: `${stdout}${stderr}`,
        });
      },
    );
  });
  expect({ code, output }).toMatchObject({ code: 0 });
  const records = JSON.parse(
    fs.readFileSync(path.join(out, 'cluster.json'), 'utf8'),
  ) as BenchRecord[];
  expect(records.map((r) => `${r.scenario} ${r.client}`).sort()).toEqual([
    'C1 keep-alive Pool',
    'R1 autocannon',
    'R1 autocannon, no event',
    'R1 keep-alive Pool',
    'R1 new connection per request',
  ]);
  for (const record of records.filter((r) => r.client.startsWith('autocannon'))) {
    expect(record).toMatchObject({ manager: 'lastcall', errors: 0, timeouts: 0, non2xx: 0 });
    expect(record.unanswered).toEqual(expect.any(Number));
  }
  for (const record of records.filter((r) => !r.client.startsWith('autocannon'))) {
    expect(record).toMatchObject({ manager: 'lastcall', failed: 0 });
    expect(record.error).toBeUndefined();
    expect(record.completed).toBeGreaterThan(100);
  }
  expect(
    records.find((r) => r.scenario === 'R1' && r.client === 'keep-alive Pool')?.reloadCode,
  ).toBe(0);
  expect(records.find((r) => r.scenario === 'C1')?.replacementMs).toEqual(expect.any(Number));
  const report = fs.readFileSync(path.join(out, 'cluster.md'), 'utf8');
  expect(report).toContain('## Failed requests (keep-alive Pool)');
  expect(report).toContain('## Targets for lastcall');
  expect(report).toContain('## R1 under autocannon');
  for (const chart of ['cluster-r1.svg', 'cluster-c1.svg']) {
    expect(fs.readFileSync(path.join(out, chart), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<path d="M/);
  }
  // The bench run itself may take up to its own 120 s on a loaded machine.
}, 150_000);
