#!/usr/bin/env node
'use strict';
/**
 * The cluster bench: lastcall against pm2 (defaults, and its documented best practice) and a
 * naive `cluster` master, in the same run, order shuffled within each repetition.
 *
 *   npm run bench:cluster                  the quick matrix (5 repetitions), docs/benchmarks/cluster.md
 *   npm run bench:cluster -- --full        10 repetitions, longer memory run
 *   node tools/bench/cluster/run.js --managers lastcall --scenarios R1,C1 --reps 1 --out /tmp/x
 *
 * Writes cluster.md, cluster.json (one record per run) and the SVG charts into --out (default
 * docs/benchmarks for a run with no options but --full, else $TMPDIR/lastcall-bench-cluster).
 */
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { readBenchArgs, failUsage } = require('../lib/args');
const { MANAGERS, cleanupAll } = require('./managers');
const { runAutocannon, runOne } = require('./run-one');
const { SCENARIOS } = require('./scenarios');
const { writeClusterReport } = require('./report');
const { shuffle } = require('../lib/shuffle');

const USAGE = `usage: node tools/bench/cluster/run.js [options]   (npm run bench:cluster -- [options])

  --full              10 repetitions and the longer memory run (default: 5, the quick matrix)
  --reps N            repetitions of every cell
  --managers a,b      only these managers (${Object.keys(MANAGERS).join(', ')})
  --scenarios X,Y     only these scenarios (${Object.keys(SCENARIOS).join(', ')})
  --out DIR           where to write cluster.md, cluster.json and the charts (default
                      docs/benchmarks for a run with no options but --full, else
                      $TMPDIR/lastcall-bench-cluster)
  --seed S            the seed of the shuffled order (default 1)
  --from-json FILE    run nothing: write the report again from a cluster.json
  --help              this text`;

const argv = process.argv.slice(2);
const { values } = readBenchArgs(
  USAGE,
  {
    full: { type: 'boolean', default: false },
    reps: { type: 'string' },
    managers: { type: 'string' },
    scenarios: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'from-json': { type: 'string' },
  },
  argv,
);

const managers = values.managers ? values.managers.split(',') : Object.keys(MANAGERS);
const scenarios = values.scenarios ? values.scenarios.split(',') : Object.keys(SCENARIOS);
for (const key of managers)
  if (!(key in MANAGERS))
    failUsage(USAGE, `unknown manager ${key}; known: ${Object.keys(MANAGERS).join(', ')}`);
for (const id of scenarios)
  if (!(id in SCENARIOS))
    failUsage(USAGE, `unknown scenario ${id}; known: ${Object.keys(SCENARIOS).join(', ')}`);
const reps = Number(values.reps ?? (values.full ? 10 : 5));
// The published runs: no options but --full (and the default seed), or the report again.
const isDefaultRun = Object.entries(values).every(
  ([key, value]) => key === 'full' || key === 'from-json' || (key === 'seed' && value === '1'),
);
const outDir = values.out
  ? path.resolve(values.out)
  : isDefaultRun
    ? path.resolve(__dirname, '..', '..', '..', 'docs', 'benchmarks')
    : path.join(os.tmpdir(), 'lastcall-bench-cluster');

const CLIENTS = {
  pool: 'keep-alive Pool',
  fresh: 'new connection per request',
  autocannon: 'autocannon',
};

/**
 * Which cells a matrix runs, and why a cell is left out. The full matrix runs every manager in
 * every scenario with every client, except M1 for the naive master, which has no memory limit to
 * test. The quick one leaves out the cells that cannot tell anything in its time:
 * - pm2's best-practice flags (--wait-ready, --listen-timeout, --kill-timeout, an app that closes
 *   its server on SIGINT) are about reloads and shutdowns; a crash, a crash loop, a SIGKILLed
 *   daemon and memory recycling run as with pm2's defaults;
 * - pm2 checks --max-memory-restart every 30 s, longer than the quick M1 window;
 * - R1 with the other two clients runs for lastcall and pm2 defaults.
 */
const PM2_BEST_SCENARIOS = new Set(['R1', 'R2', 'R3', 'S1']);
const OTHER_CLIENT_MANAGERS = new Set(['lastcall', 'pm2']);

/** Why `manager` does not run `scenario` with `client` in this matrix, or undefined. */
function skipReason(manager, scenario, client, full) {
  if (manager === 'naive' && scenario === 'M1') return 'the naive master has no memory limit';
  if (full) return undefined;
  if (manager === 'pm2-best' && !PM2_BEST_SCENARIOS.has(scenario))
    return "pm2's best-practice flags are about reloads and shutdowns, so this runs as pm2 (`--full` runs it)";
  if (manager === 'pm2' && scenario === 'T0')
    return "the throughput target compares lastcall with the naive master; the quick run leaves pm2's out (`--full` runs it)";
  if (manager === 'pm2' && scenario === 'M1')
    return 'pm2 checks `--max-memory-restart` every 30 s, longer than the quick run watches (`--full` watches 40 s)';
  if (client !== 'pool' && !OTHER_CLIENT_MANAGERS.has(manager))
    return 'the quick run drives R1 with the other clients for lastcall and pm2 only (`--full` runs them all)';
  return undefined;
}

/**
 * The cells of one repetition (every scenario × manager, plus R1 with a client that opens a new
 * connection per request and R1 under autocannon), and the ones left out, with why.
 */
function cells(full) {
  const plan = [];
  const skipped = [];
  for (const scenario of scenarios) {
    for (const manager of managers) {
      const clients = scenario === 'R1' ? ['pool', 'fresh', 'autocannon'] : ['pool'];
      for (const client of clients) {
        const why = skipReason(manager, scenario, client, full);
        if (why === undefined) plan.push({ manager, scenario, client });
        else skipped.push({ manager, scenario, client: CLIENTS[client], why });
      }
    }
  }
  return { plan, skipped };
}

/** `--from-json <file>`: the report again from the records of an earlier run (same --out rules). */
async function rewrite(file) {
  const records = JSON.parse(fs.readFileSync(file, 'utf8'));
  // When the last run began; records written before runs carried `at` get the file's time.
  const fileTime = fs.statSync(file).mtime.toISOString();
  for (const record of records) record.at ??= fileTime;
  const date = new Date(
    records.reduce((last, record) => (record.at > last ? record.at : last), ''),
  );
  const written = await writeClusterReport({
    date,
    records,
    outDir,
    argv: values.full ? ['--full'] : [],
    reps: Math.max(...records.map((record) => record.rep ?? 1)),
    seconds: records.reduce((sum, record) => sum + (record.wallMs ?? 0), 0) / 1000,
    full: values.full,
    skipped: cells(values.full).skipped,
  });
  process.stdout.write(`wrote ${written} from ${file}\n`);
}

async function main() {
  if (values['from-json'] !== undefined) return rewrite(path.resolve(values['from-json']));
  const startedAt = Date.now();
  const records = [];
  const { plan, skipped } = cells(values.full);
  SCENARIOS.M1.eventMs = values.full ? 40_000 : 6000;
  SCENARIOS.C2.watchMs = values.full ? 10_000 : 5000;
  // autocannon's baseline: the same load without an event, once per manager that runs it.
  const cannonManagers = managers.filter((manager) =>
    plan.some((cell) => cell.client === 'autocannon' && cell.manager === manager),
  );
  for (const manager of cannonManagers) {
    const record = await runAutocannon(manager, false);
    records.push({ ...record, rep: 0, at: new Date().toISOString() });
    process.stdout.write(
      `baseline ${manager} (autocannon, no event): ${record.unanswered} unanswered\n`,
    );
  }
  for (let rep = 1; rep <= reps; rep += 1) {
    for (const cell of shuffle(plan, Number(values.seed) * 1000 + rep)) {
      const options = { fresh: cell.client === 'fresh' };
      let record;
      const cellStartedAt = Date.now();
      try {
        record =
          cell.client === 'autocannon'
            ? await runAutocannon(cell.manager, true)
            : await runOne(cell.manager, cell.scenario, options);
      } catch (error) {
        record = {
          manager: cell.manager,
          scenario: cell.scenario,
          client: CLIENTS[cell.client],
          error: String(error.message ?? error).slice(0, 500),
        };
      }
      record.rep = rep;
      record.at = new Date(cellStartedAt).toISOString();
      record.wallMs = Date.now() - cellStartedAt;
      records.push(record);
      process.stdout.write(
        `rep ${rep}/${reps} ${cell.scenario} ${cell.manager} (${record.client}): ` +
          (record.error
            ? `ERROR ${record.error.split('\n')[0]}`
            : record.client === 'autocannon'
              ? `${record.unanswered} unanswered, ${record.errors} errors`
              : `${record.failed} failed, ${record.lostRequests} lost`) +
          ` (${((Date.now() - startedAt) / 1000).toFixed(0)} s)\n`,
      );
    }
  }
  const seconds = (Date.now() - startedAt) / 1000;
  const file = await writeClusterReport({
    records,
    outDir,
    argv,
    reps,
    seconds,
    full: values.full,
    skipped,
  });
  process.stdout.write(`wrote ${file} (${seconds.toFixed(0)} s)\n`);
}

// An interrupted bench stops the managers of the run under way: no daemon or worker left behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stdout.write(`\n${signal}: stopping the managers still running\n`);
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
