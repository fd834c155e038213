#!/usr/bin/env node
'use strict';

// Side-by-side shutdown benchmark: @lastcall/terminator against its peers. See --help, and
// docs/benchmarks/terminator.md for the latest committed results.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs, USAGE } = require('./lib/args');
const { failUsage } = require('../lib/args');
const { startServer } = require('./lib/server-handle');
const { summarizeRuns } = require('./lib/summary');
const { renderMarkdown } = require('./lib/report');
const { writeScaleCharts } = require('./lib/scale-report');
const { shuffle } = require('./lib/stats');
const { SCENARIOS, scenarioParams } = require('./scenarios');
const {
  BASELINES,
  LIBRARY_NAMES,
  getAdapter,
  libraryVersion,
  unsupportedReason,
} = require('./adapters');

const REPO_ROOT = path.resolve(__dirname, '../../..');
const RUN_TIMEOUT_MS = 60000;
const liveServers = new Set();

function selectScenarios(only) {
  if (!only) return SCENARIOS;
  const isSelected = (scenario) =>
    only.some((id) => id.toLowerCase() === scenario.id.toLowerCase());
  const unknown = only.filter(
    (id) => !SCENARIOS.some((scenario) => scenario.id.toLowerCase() === id.toLowerCase()),
  );
  if (unknown.length) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; expected ${SCENARIOS.map((s) => s.id).join(' ')}`,
    );
  }
  return SCENARIOS.filter(isSelected);
}

function selectLibraries(libs) {
  if (!libs) return LIBRARY_NAMES;
  for (const name of libs) getAdapter(name);
  return LIBRARY_NAMES.filter((name) => libs.includes(name));
}

function assertLastcallBuilt() {
  try {
    require('@lastcall/terminator');
  } catch (error) {
    throw new Error(
      `cannot load @lastcall/terminator (${error.message}); build it first: npm run build`,
      { cause: error },
    );
  }
}

/** startServer, remembering every child so that none outlives its run. */
async function trackedStartServer(config) {
  const server = await startServer(config);
  liveServers.add(server);
  const kill = server.kill;
  server.kill = async () => {
    liveServers.delete(server);
    await kill();
  };
  return server;
}

async function killAll() {
  await Promise.all([...liveServers].map((server) => server.kill()));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function progressLine(run) {
  const head = `[rep ${run.rep}] ${run.scenario.padEnd(6)} ${run.lib.padEnd(22)}`;
  if (run.na) return `${head} n/a (${run.na})`;
  if (run.error) return `${head} ERROR ${run.error}`;
  const m = run.metrics;
  const parts = [];
  for (const key of ['dropped', 'resets', 'closeLagMs', 'timeToCloseMs', 'cpuMicrosPerRequest']) {
    if (m[key] !== undefined && m[key] !== null) {
      parts.push(`${key}=${Number.isInteger(m[key]) ? m[key] : m[key].toFixed(1)}`);
    }
  }
  if (m.closeCodes) parts.push(`codes=${JSON.stringify(m.closeCodes)}`);
  return `${head} ${parts.join(' ')} (${(run.durationMs / 1000).toFixed(1)} s)`;
}

/** The baselines a scenario runs beside the libraries: `bare` and/or `destroy-all`. */
function baselinesOf(scenario) {
  return [...(scenario.includesBare ? ['bare'] : []), ...(scenario.baselines || [])];
}

async function runOne({ scenario, lib, rep, params }) {
  const base = { scenario: scenario.id, lib, rep };
  const reason =
    (scenario.unavailableReason && scenario.unavailableReason()) ||
    (BASELINES.includes(lib) ? null : unsupportedReason(lib, scenario.protocol));
  if (reason) return { ...base, na: reason };
  const startedAt = performance.now();
  try {
    const metrics = await withTimeout(
      scenario.run({ lib, params, startServer: trackedStartServer }),
      RUN_TIMEOUT_MS,
      `${scenario.id} ${lib}`,
    );
    return { ...base, durationMs: performance.now() - startedAt, metrics };
  } catch (error) {
    return {
      ...base,
      durationMs: performance.now() - startedAt,
      error: error.message.split('\n')[0],
    };
  } finally {
    await killAll();
  }
}

/** Formats with the repo's prettier settings, so that `npm run lint` accepts the file as is. */
async function formatMarkdown(markdown) {
  try {
    const prettier = require('prettier');
    const configFor = path.join(REPO_ROOT, 'docs', 'benchmarks', 'terminator.md');
    const config = (await prettier.resolveConfig(configFor)) || {};
    return await prettier.format(markdown, { ...config, parser: 'markdown' });
  } catch (error) {
    process.stderr.write(`prettier unavailable (${error.message}); writing unformatted markdown\n`);
    return markdown;
  }
}

function outputDir(options) {
  if (options.out) return path.resolve(options.out);
  const isFullRun = !options.only && !options.libs && !options.quick && !options.max;
  return isFullRun
    ? path.join(REPO_ROOT, 'docs', 'benchmarks')
    : path.join(os.tmpdir(), 'lastcall-bench-terminator');
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    failUsage(USAGE, error instanceof Error ? error.message.split('\n')[0] : String(error));
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (options.render) {
    const jsonPath = path.resolve(options.render);
    const results = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    const markdownPath = path.join(path.dirname(jsonPath), 'terminator.md');
    writeScaleCharts(path.dirname(jsonPath), results);
    fs.writeFileSync(markdownPath, await formatMarkdown(renderMarkdown(results)));
    process.stdout.write(`wrote ${markdownPath}\n`);
    return;
  }
  const scenarios = selectScenarios(options.only);
  const libraries = selectLibraries(options.libs);
  if (libraries.includes('lastcall')) assertLastcallBuilt();
  const mode = options.quick ? 'quick' : options.max ? 'max' : 'default';
  const params = scenarioParams(mode);
  const args = process.argv.slice(2).join(' ');
  const isNpmScript = process.env.npm_lifecycle_event === 'bench:terminator';
  const command = isNpmScript
    ? `npm run bench:terminator${args ? ` -- ${args}` : ''}`
    : `node tools/bench/terminator/run.js${args ? ` ${args}` : ''}`;
  const startedAt = performance.now();
  process.stdout.write(
    `lastcall terminator benchmark: ${options.reps} reps, ${mode} mode, ` +
      `libraries ${libraries.join(', ')}, scenarios ${scenarios.map((s) => s.id).join(' ')}\n`,
  );

  const runs = [];
  for (let rep = 1; rep <= options.reps; rep += 1) {
    for (const [scenarioIndex, scenario] of scenarios.entries()) {
      if (params[scenario.id].reps !== undefined && rep > params[scenario.id].reps) continue;
      const mine = scenario.libraries
        ? libraries.filter((name) => scenario.libraries.includes(name))
        : libraries;
      const libs = [...baselinesOf(scenario), ...mine];
      for (const lib of shuffle(libs, rep * 1000 + scenarioIndex)) {
        const run = await runOne({ scenario, lib, rep, params: params[scenario.id] });
        runs.push(run);
        process.stdout.write(`${progressLine(run)}\n`);
      }
    }
  }

  const allLibraries = [
    ...libraries,
    ...BASELINES.filter((name) =>
      scenarios.some((scenario) => baselinesOf(scenario).includes(name)),
    ),
  ];
  const results = {
    meta: {
      command,
      mode,
      reps: options.reps,
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: (os.cpus()[0] && os.cpus()[0].model.trim()) || 'unknown',
      date: new Date().toISOString(),
      durationMs: performance.now() - startedAt,
    },
    libraries: allLibraries.map((name) => ({
      name,
      version: libraryVersion(name),
      driven: getAdapter(name).driven,
    })),
    scenarios: scenarios.map((scenario) => ({
      id: scenario.id,
      title: scenario.title,
      protocol: scenario.protocol,
      description: scenario.describe(params[scenario.id]),
      params: params[scenario.id],
      columns: scenario.columns,
    })),
    runs,
  };
  results.summary = summarizeRuns(scenarios, allLibraries, runs);

  const dir = outputDir(options);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'terminator.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeScaleCharts(dir, results);
  const markdownPath = path.join(dir, 'terminator.md');
  fs.writeFileSync(markdownPath, await formatMarkdown(renderMarkdown(results)));
  process.stdout.write(
    `\ndone in ${((performance.now() - startedAt) / 60000).toFixed(1)} min; wrote ` +
      `${path.join(dir, 'terminator.md')} and terminator.json\n`,
  );
}

process.once('SIGINT', () => {
  killAll().finally(() => process.exit(130));
});

main()
  .then(() => killAll())
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error.message}\n`);
      killAll().finally(() => process.exit(1));
    },
  );
