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
const path = require('node:path');
const { parseArgs } = require('node:util');
const { MANAGERS } = require('./managers');
const { runOne } = require('./run-one');
const { SCENARIOS } = require('./scenarios');
const { writeClusterReport } = require('./report');

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  options: {
    full: { type: 'boolean', default: false },
    reps: { type: 'string' },
    managers: { type: 'string' },
    scenarios: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});

const managers = values.managers ? values.managers.split(',') : Object.keys(MANAGERS);
const scenarios = values.scenarios ? values.scenarios.split(',') : Object.keys(SCENARIOS);
for (const key of managers)
  if (!(key in MANAGERS))
    throw new Error(`unknown manager ${key}; known: ${Object.keys(MANAGERS).join(', ')}`);
for (const id of scenarios)
  if (!(id in SCENARIOS))
    throw new Error(`unknown scenario ${id}; known: ${Object.keys(SCENARIOS).join(', ')}`);
const reps = Number(values.reps ?? (values.full ? 10 : 5));
const isDefaultRun = argv.every((arg) => arg === '--full');
const outDir = values.out
  ? path.resolve(values.out)
  : isDefaultRun
    ? path.resolve(__dirname, '..', '..', '..', 'docs', 'benchmarks')
    : path.join(os.tmpdir(), 'lastcall-bench-cluster');

/** A small seeded shuffle (mulberry32), so a run's order can be repeated. */
function shuffled(items, seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/** The cells of one repetition: every scenario × manager, plus the new-connection client for R1. */
function cells() {
  const list = [];
  for (const scenario of scenarios) {
    for (const manager of managers) {
      list.push({ manager, scenario, fresh: false });
      if (scenario === 'R1') list.push({ manager, scenario, fresh: true });
    }
  }
  return list;
}

async function main() {
  const startedAt = Date.now();
  const records = [];
  const plan = cells();
  for (let rep = 1; rep <= reps; rep += 1) {
    for (const cell of shuffled(plan, Number(values.seed) * 1000 + rep)) {
      const options = {
        fresh: cell.fresh,
        ...(cell.scenario === 'M1' && values.full ? { afterMs: 1500 } : {}),
      };
      if (cell.scenario === 'M1') SCENARIOS.M1.eventMs = values.full ? 40_000 : 6000;
      let record;
      try {
        record = await runOne(cell.manager, cell.scenario, options);
      } catch (error) {
        record = {
          manager: cell.manager,
          scenario: cell.scenario,
          client: cell.fresh ? 'new connection per request' : 'keep-alive Pool',
          error: String(error.message ?? error).slice(0, 500),
        };
      }
      record.rep = rep;
      records.push(record);
      process.stdout.write(
        `rep ${rep}/${reps} ${cell.scenario} ${cell.manager}${cell.fresh ? ' (new connections)' : ''}: ` +
          (record.error
            ? `ERROR ${record.error.split('\n')[0]}`
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
  });
  process.stdout.write(`wrote ${file} (${seconds.toFixed(0)} s)\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
