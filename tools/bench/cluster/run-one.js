'use strict';
/** One run: a fresh manager in a temp folder, the compliant load, one scenario's event. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MANAGERS, sleep } = require('./managers');
const { compliantLoad, untilServing } = require('./load');
const { processUsage, summarize } = require('./metrics');
const { SCENARIOS } = require('./scenarios');
const { freePort } = require('../lib/report');

/** The load's warm-up before the steady phase, unless the scenario says otherwise. */
const WARM_MS = 300;

/**
 * Runs `scenarioId` against `managerKey`; resolves with the run's record. `steadyMs` of steady
 * load before the event, `afterMs` after it (default: the scenario's, else 500); `fresh` opens a
 * new connection per request.
 */
async function runOne(
  managerKey,
  scenarioId,
  { steadyMs = 500, afterMs, workers = 2, connections = 8, fresh = false } = {},
) {
  const manager = MANAGERS[managerKey];
  const scenario = SCENARIOS[scenarioId];
  afterMs ??= scenario.afterMs ?? 500;
  const warmMs = scenario.warmMs ?? WARM_MS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-bench-cluster-'));
  const modeFile = path.join(dir, 'mode');
  fs.writeFileSync(modeFile, scenario.mode ?? 'good');
  const port = await freePort();
  let running;
  let load;
  try {
    running = await manager.start({ dir, port, modeFile, workers, recycleMB: scenario.recycleMB });
    await untilServing(port, workers);
    const supervisorBefore = processUsage(running.supervisorPid);
    load = compliantLoad(port, { connections, fresh });
    await sleep(warmMs + steadyMs);
    const eventAt = load.now();
    const result = await scenario.event({
      running,
      port,
      load,
      workers,
      setMode: (mode) => fs.writeFileSync(modeFile, mode),
    });
    const eventEnd = load.now();
    await sleep(afterMs);
    const supervisorAfter = processUsage(running.supervisorPid);
    const records = await load.stop();
    load = undefined;
    const endAt = records.reduce((latest, record) => Math.max(latest, record.end), 0);
    const summary = summarize(records, { steadyFrom: warmMs, eventAt, eventEnd, endAt });
    if (scenario.refusedIsExpected) {
      summary.refusedAfterStop = summary.failures.refused;
      summary.failed -= summary.failures.refused;
      summary.failures = { ...summary.failures, refused: 0 };
    }
    if (scenario.failuresAreMoot) {
      summary.failed = undefined;
      summary.failures = undefined;
    }
    return {
      manager: managerKey,
      scenario: scenarioId,
      client: fresh ? 'new connection per request' : 'keep-alive Pool',
      eventAt: Math.round(eventAt),
      eventMs: Math.round(eventEnd - eventAt),
      ...summary,
      ...result,
      supervisorRssMiB: supervisorBefore?.rssMiB,
      supervisorCpuMs:
        supervisorAfter && supervisorBefore
          ? supervisorAfter.cpuMs - supervisorBefore.cpuMs
          : undefined,
    };
  } finally {
    if (load !== undefined) await load.stop();
    if (running !== undefined) await running.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runOne };

const USAGE = `usage: node tools/bench/cluster/run-one.js [manager] [scenario]

  One run of the cluster bench: a fresh manager in a temp folder, the compliant load, one
  scenario's event; prints the run's record as JSON (without its per-100 ms series).

  manager           ${Object.keys(MANAGERS).join(', ')} (default lastcall)
  scenario          ${Object.keys(SCENARIOS).join(', ')} (default R1)
  --help            this text
`;

/** The command line: two optional positionals, checked; nothing else. */
function readRunOneArgs(argv) {
  const { failUsage } = require('../lib/args');
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const flag = argv.find((arg) => arg.startsWith('-'));
  if (flag !== undefined) failUsage(USAGE, `unknown option ${flag}`);
  if (argv.length > 2) failUsage(USAGE, `unexpected argument ${argv[2]}`);
  const [managerKey = 'lastcall', scenarioId = 'R1'] = argv;
  if (!Object.hasOwn(MANAGERS, managerKey)) failUsage(USAGE, `unknown manager ${managerKey}`);
  if (!Object.hasOwn(SCENARIOS, scenarioId)) failUsage(USAGE, `unknown scenario ${scenarioId}`);
  return { managerKey, scenarioId };
}

if (require.main === module) {
  const { managerKey, scenarioId } = readRunOneArgs(process.argv.slice(2));
  runOne(managerKey, scenarioId).then(
    (record) => {
      const { series: _series, ...rest } = record;
      console.log(JSON.stringify(rest, null, 2));
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/**
 * R1 under autocannon, which ignores `Connection: close`: 3 s of load with the reload at 1.2 s
 * (or none, the baseline). Counts what it sent, what was answered, its errors and timeouts.
 */
async function runAutocannon(managerKey, withEvent, { workers = 2, connections = 8 } = {}) {
  const { autocannonLoad } = require('./load');
  const manager = MANAGERS[managerKey];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-bench-cluster-'));
  const modeFile = path.join(dir, 'mode');
  fs.writeFileSync(modeFile, 'good');
  const port = await freePort();
  let running;
  try {
    running = await manager.start({ dir, port, modeFile, workers });
    await untilServing(port, workers);
    const counts = await autocannonLoad(port, {
      seconds: 3,
      connections,
      eventAtMs: 1200,
      during: withEvent ? () => running.reload() : undefined,
    });
    return {
      manager: managerKey,
      scenario: 'R1',
      client: withEvent ? 'autocannon' : 'autocannon, no event',
      ...counts,
      unanswered: counts.sent - counts.answered - counts.errors,
    };
  } finally {
    if (running !== undefined) await running.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports.runAutocannon = runAutocannon;
