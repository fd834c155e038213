'use strict';
/** docs/benchmarks/cluster.md, cluster.json and the charts, from the records of a run. */
const fs = require('node:fs');
const path = require('node:path');
const { machineLine, writeMarkdownReport } = require('../lib/report');
const { BUCKET_MS, median } = require('./metrics');
const { MANAGERS } = require('./managers');
const { SCENARIOS } = require('./scenarios');
const { lineChart, secondTicks } = require('../lib/svg');
const { targetLines } = require('./targets');
const { REQUEST_TIMEOUT_MS } = require('./load');

const root = path.resolve(__dirname, '..', '..', '..');
const version = (file) => JSON.parse(fs.readFileSync(file, 'utf8')).version;

/** `median [min–max]` of a field over records, or `–`. */
function cell(records, field, digits = 0) {
  const values = records
    .map((record) => record[field])
    .filter((value) => typeof value === 'number');
  if (values.length === 0) return '–';
  const format = (value) => value.toFixed(digits);
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? format(low) : `${format(median(values))} [${format(low)}–${format(high)}]`;
}

function failureCell(records) {
  if (records.length === 0 || records.every((record) => record.failed === undefined)) return '–';
  const total = cell(records, 'failed');
  const kinds = ['reset', 'timeout', 'non2xx', 'refused', 'other']
    .map((kind) => [kind, records.reduce((sum, record) => sum + (record.failures?.[kind] ?? 0), 0)])
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`);
  return kinds.length === 0 ? total : `${total} (all ${records.length} runs: ${kinds.join(', ')})`;
}

const DETAILS = {
  T0: [
    ['answered (req/s)', 'rps'],
    ['p99 (ms)', 'p99Steady', 1],
    ['slowest answer (ms)', 'slowestMs'],
  ],
  R1: [
    ['reload (ms)', 'reloadMs'],
    ['lost vs steady (req)', 'lostRequests'],
    ['dip (%)', 'dipPct'],
    ['p99 steady (ms)', 'p99Steady', 1],
    ['p99 during (ms)', 'p99Event', 1],
    ['slowest answer (ms)', 'slowestMs'],
  ],
  R2: [
    ['long requests completed (of 20)', 'longCompleted'],
    ['long requests failed', 'longFailed'],
    ['reload (ms)', 'reloadMs'],
  ],
  R3: [
    ['reload exit code', 'reloadCode'],
    ['workers answering after', 'servingAfter'],
  ],
  C1: [
    ['replacement answering (ms)', 'replacementMs'],
    ['lost vs steady (req)', 'lostRequests'],
    ['p99 during (ms)', 'p99Event', 1],
    ['slowest answer (ms)', 'slowestMs'],
  ],
  C2: [
    ['watched (s)', 'watchedS'],
    ['re-forks seen', 'reforksSeen'],
    ['first gap (ms)', 'firstGapMs'],
    ['last gap (ms)', 'lastGapMs'],
    ['other workers alive', 'othersAlive'],
  ],
  S1: [
    ['refused after the listeners closed', 'refusedAfterStop'],
    ['supervisor exit (ms)', 'exitMs'],
    ['workers left after', 'left'],
  ],
  S2: [['workers alive 2 s after', 'survivors']],
  M1: [
    ['workers recycled', 'recycled'],
    ['peak worker RSS (MiB)', 'peakWorkerMiB'],
  ],
};

function chartFor(records, scenario, managers) {
  const lines = [];
  for (const manager of managers) {
    const runs = records.filter(
      (r) =>
        r.scenario === scenario &&
        r.manager === manager &&
        r.client === 'keep-alive Pool' &&
        r.series,
    );
    if (runs.length === 0) continue;
    const lost = median(runs.map((r) => r.lostRequests));
    const run = runs.reduce((best, r) =>
      Math.abs(r.lostRequests - lost) < Math.abs(best.lostRequests - lost) ? r : best,
    );
    const from = Math.floor((run.eventAt - 1000) / BUCKET_MS);
    const points = run.series
      .slice(Math.max(0, from), from + 40)
      .map((count, index) => [(Math.max(0, from) + index) * BUCKET_MS - run.eventAt, count]);
    lines.push({ label: MANAGERS[manager].name, points });
  }
  return lineChart({
    title: `${scenario} — ${SCENARIOS[scenario].title}: completed requests per 100 ms (keep-alive Pool, median run)`,
    lines,
    xLabel: 'time from the event',
    yLabel: 'requests / 100 ms',
    xTicks: secondTicks(lines),
  });
}

/**
 * Writes `<base>.md`, `<base>.json` and `<base>-r1.svg` / `<base>-c1.svg` into `outDir`, where
 * `<base>` is `cluster` for the quick matrix and `cluster-full` for `--full`. `skipped` lists the
 * cells the matrix leaves out, each with why. `date` is when the records were made.
 */
async function writeClusterReport({
  records,
  outDir,
  argv,
  reps,
  seconds,
  full,
  skipped = [],
  date = new Date(),
}) {
  fs.mkdirSync(outDir, { recursive: true });
  const base = full ? 'cluster-full' : 'cluster';
  const json = path.join(outDir, `${base}.json`);
  fs.writeFileSync(
    json,
    `${JSON.stringify(records.map(({ series, ...rest }) => ({ ...rest, series: rest.scenario === 'R1' || rest.scenario === 'C1' ? series : undefined })))}\n`,
  );
  const managers = Object.keys(MANAGERS).filter((key) => records.some((r) => r.manager === key));
  const slowest = Math.round(
    Math.max(0, ...records.map((r) => r.slowestMs).filter((value) => typeof value === 'number')),
  );
  const scenarios = [...new Set(records.map((r) => r.scenario))].sort();
  const of = (scenario, manager, client = 'keep-alive Pool') =>
    records.filter(
      (r) => r.scenario === scenario && r.manager === manager && r.client === client && !r.error,
    );
  const lines = [
    `# The cluster side by side: lastcall, pm2 and a naive cluster${full ? ' (full matrix)' : ''}`,
    '',
    `Generated by \`tools/bench/cluster/run.js\`; do not edit by hand. Raw records: [${base}.json](./${base}.json).`,
    '',
    `Every run starts a fresh process tree (one manager, one scenario, 2 workers of [the same app](../../tools/bench/cluster/app.js)) in a temp folder, puts it under a constant load over 127.0.0.1, does the scenario's event, and counts what the load saw. The main load is undici's keep-alive Pool with 8 connections: it honours \`Connection: close\`, never retries, and every failure is attributed (reset, timeout, non-2xx, refused). A request unanswered after ${REQUEST_TIMEOUT_MS / 1000} s is a timeout; the slowest request answered in any run took ${slowest} ms. R1 also runs with a client that opens a new connection per request. In S1 the listeners close on purpose, so a refused connection is not counted as a failure there (it was never accepted; a load balancer polling the heartbeat has moved on); every reset or timeout is. In S2 only the survivors count. The load runs 500 ms of steady state before each event, after a warm-up of 1.5 s in T0, R1 and C1, whose throughput is compared and charted (a fresh worker serves at about a third of its speed in its first second), and of 300 ms in the others, which count failures. Within each repetition the order of the runs is shuffled. Cells are **median [min–max]** over ${reps} repetitions.`,
    '',
    full
      ? 'This is the full matrix (`npm run bench:cluster -- --full`). The quick one, which `npm run bench:cluster` reproduces in under 15 minutes, is [cluster.md](./cluster.md).'
      : 'This is the quick matrix (`npm run bench:cluster`, under 15 minutes). The full one, with 10 repetitions and every manager in every cell, is [cluster-full.md](./cluster-full.md).',
    '',
    `- Command: \`node tools/bench/cluster/run.js${argv.length ? ` ${argv.join(' ')}` : ''}\`${full ? ' (`npm run bench:cluster -- --full`)' : ' (`npm run bench:cluster`)'}`,
    `- ${machineLine()}`,
    `- lastcall ${version(path.join(root, 'packages', 'lastcall', 'package.json'))}, pm2 ${version(require.resolve('pm2/package.json', { paths: [root] }))}, undici ${version(require.resolve('undici/package.json', { paths: [root] }))}`,
    `- Date: ${date.toISOString()}; ${records.length} runs; total ${(seconds / 60).toFixed(1)} min`,
    '',
    '| manager | how it was driven |',
    '| --- | --- |',
    ...managers.map((key) => `| ${MANAGERS[key].name} | ${MANAGERS[key].describe} |`),
    '',
    '## Failed requests (keep-alive Pool)',
    '',
    `| scenario | ${managers.map((key) => MANAGERS[key].name).join(' | ')} |`,
    `| --- | ${managers.map(() => '---').join(' | ')} |`,
    ...scenarios.map(
      (scenario) =>
        `| ${scenario} ${SCENARIOS[scenario].title} | ${managers.map((m) => failureCell(of(scenario, m))).join(' | ')} |`,
    ),
    '',
  ];
  const fresh = scenarios.filter((s) =>
    records.some((r) => r.scenario === s && r.client !== 'keep-alive Pool'),
  );
  if (fresh.length > 0) {
    lines.push(
      '## Failed requests (a new connection per request)',
      '',
      `| scenario | ${managers.map((key) => MANAGERS[key].name).join(' | ')} |`,
      `| --- | ${managers.map(() => '---').join(' | ')} |`,
    );
    for (const scenario of fresh)
      lines.push(
        `| ${scenario} ${SCENARIOS[scenario].title} | ${managers.map((m) => failureCell(of(scenario, m, 'new connection per request'))).join(' | ')} |`,
      );
    lines.push('');
  }
  const cannon = records.filter((r) => r.client === 'autocannon' && !r.error);
  if (cannon.length > 0) {
    const baseline = (manager) =>
      records.filter((r) => r.manager === manager && r.client === 'autocannon, no event');
    lines.push(
      '## R1 under autocannon',
      '',
      'autocannon ignores `Connection: close` and counts a request on a connection the server closed as neither an error nor an answer, so what matters is what it sent minus what was answered minus its errors, against the same load without an event. 3 s of load, 8 connections, the reload at 1.2 s.',
      '',
      '| manager | unanswered, no event | unanswered, reload | errors | timeouts | non-2xx |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const manager of managers) {
      const runs = cannon.filter((r) => r.manager === manager);
      if (runs.length === 0) continue;
      lines.push(
        `| ${MANAGERS[manager].name} | ${cell(baseline(manager), 'unanswered')} | ${cell(runs, 'unanswered')} | ${cell(runs, 'errors')} | ${cell(runs, 'timeouts')} | ${cell(runs, 'non2xx')} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Each scenario', '');
  for (const scenario of scenarios) {
    const fields = DETAILS[scenario] ?? [];
    lines.push(
      `### ${scenario} — ${SCENARIOS[scenario].title}`,
      '',
      `| manager | failed | ${fields.map(([title]) => title).join(' | ')} |`,
      `| --- | --- | ${fields.map(() => '---').join(' | ')} |`,
    );
    for (const manager of managers) {
      const runs = of(scenario, manager);
      lines.push(
        `| ${MANAGERS[manager].name} | ${failureCell(runs)} | ${fields.map(([, field, digits]) => cell(runs, field, digits)).join(' | ')} |`,
      );
    }
    const errors = records.filter((r) => r.scenario === scenario && r.error);
    if (errors.length > 0)
      lines.push(
        '',
        `Runs that could not complete: ${errors.map((r) => `${MANAGERS[r.manager].name} rep ${r.rep}: ${r.error.split('\n')[0]}`).join('; ')}.`,
      );
    lines.push('');
  }
  const steady = (manager) =>
    records.filter(
      (r) =>
        r.manager === manager &&
        r.client === 'keep-alive Pool' &&
        typeof r.steadyRps === 'number' &&
        r.steadyRps > 0,
    );
  lines.push(
    '## Steady state',
    '',
    "Throughput is T0: 2 s of the keep-alive load, counted once every worker has answered and the load has run 2 s, with no event and nothing polling the manager. (The steady phases before the other scenarios' events are too short and, where the warm-up is 300 ms, too early to compare.) RSS is the supervisor's (the lastcall or naive master, pm2's daemon) as each keep-alive run begins; CPU is what it used during the run.",
    '',
    '| manager | throughput, T0 (req/s) | supervisor RSS (MiB) | supervisor CPU during a run (ms) |',
    '| --- | --- | --- | --- |',
  );
  for (const manager of managers)
    lines.push(
      `| ${MANAGERS[manager].name} | ${cell(of('T0', manager), 'rps')} | ${cell(steady(manager), 'supervisorRssMiB', 1)} | ${cell(steady(manager), 'supervisorCpuMs')} |`,
    );
  lines.push('');
  for (const scenario of ['R1', 'C1']) {
    if (!scenarios.includes(scenario)) continue;
    const svg = `${base}-${scenario.toLowerCase()}.svg`;
    fs.writeFileSync(path.join(outDir, svg), chartFor(records, scenario, managers));
    lines.push(`![${scenario}: completed requests per 100 ms around the event](./${svg})`, '');
  }
  if (skipped.length > 0) {
    lines.push('## Not run in this matrix', '', 'A `–` in the tables above is one of these:', '');
    const byWhy = new Map();
    for (const { manager, scenario, client, why } of skipped) {
      const what = `${MANAGERS[manager].name} ${scenario}${client === 'keep-alive Pool' ? '' : ` (${client})`}`;
      byWhy.set(why, [...(byWhy.get(why) ?? []), what]);
    }
    for (const [why, what] of byWhy) lines.push(`- ${what.join(', ')}: ${why}.`);
    lines.push('');
  }
  lines.push(...targetLines(records, of, steady));
  // What the numbers do not say by themselves, written by hand after a run.
  const notes = path.join(__dirname, 'what-we-saw.md');
  if (fs.existsSync(notes)) lines.push(fs.readFileSync(notes, 'utf8').trim(), '');
  return writeMarkdownReport({
    lines,
    fileName: `${base}.md`,
    argv: [],
    out: outDir,
    tmpName: 'lastcall-bench-cluster',
  });
}

module.exports = { writeClusterReport };
