'use strict';

/**
 * `npm test`: everything a change must pass, on every Node.js line lastcall supports.
 *
 * On the machine's own Node: system-deps (installs siege, ab, ip, curl, haproxy, nginx, tini when
 * missing), build, lint, check-packages, every jest test (unit, integration, and e2e: two hosts and
 * a balancer in network namespaces, as root), pack-smoke. Then, on each pinned line of
 * tools/lib/node-lines.js other than the machine's (22, 24 and 26 on a Node 20 machine): the
 * integration tests (all but MACHINE_LINE_ONLY) and pack-smoke, with that line's binary first on
 * PATH, fetched once from the npm registry into .cache/node. Ends with one summary line per Node line and the plain
 * `N passed, N failed` over all of them; exits 1 when anything failed.
 *
 * Usage: node tools/test.js [--lines all|current|22,24,...]
 *   all (default)  the machine's Node, then every other pinned line
 *   current        the machine's Node only (the quick loop while working)
 *   22,26          the machine's Node, then only these pinned lines
 * LASTCALL_TEST_LINES sets the same when the flag is absent.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  NODE_LINES,
  cacheDir,
  ensureNodeBinary,
  envForNode,
  otherLines,
} = require('./lib/node-lines');
const {
  addTallies,
  formatDuration,
  summaryLine,
  tallyJest,
  tallyStep,
} = require('./lib/test-tally');

const root = path.resolve(__dirname, '..');
const jestBin = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-test-'));

/**
 * @typedef {import('./lib/test-tally').Tally} Tally
 * @typedef {{ label: string, tally: Tally, ms: number, parts: string[] }} LineResult
 */

function readLinesOption() {
  const index = process.argv.indexOf('--lines');
  const value = index === -1 ? process.env['LASTCALL_TEST_LINES'] : process.argv[index + 1];
  const wanted = value === undefined || value.trim() === '' ? 'all' : value.trim();
  const others = otherLines(process.versions.node);
  if (wanted === 'all') return others;
  if (wanted === 'current') return [];
  const majors = wanted.split(',').map((part) => Number(part.trim()));
  const unknown = majors.filter((major) => !NODE_LINES.some((line) => line.major === major));
  if (unknown.length > 0 || majors.length === 0) {
    console.error(
      `test: --lines takes all, current or a list of ${NODE_LINES.map((line) => line.major).join(', ')}; got ${JSON.stringify(wanted)}`,
    );
    process.exit(2);
  }
  return others.filter((line) => majors.includes(line.major));
}

/** The step running now, so that a signal to `npm test` reaches its whole process group. */
let current;
/** Set by a signal: the step running now is stopped, and no further step starts. */
let isInterrupted = false;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    isInterrupted = true;
    if (current !== undefined) killGroup(current, signal);
    process.exitCode = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
    setTimeout(() => process.exit(), 5000).unref();
  });
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
function killGroup(child, signal) {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Runs a command with inherited output, in a process group of its own so that a step that
 * overruns `timeoutMs` is killed with everything it started; resolves with its exit code (1 when
 * it could not start or was killed).
 * @param {string} file
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, timeoutMs: number, label: string }} options
 * @returns {Promise<number>}
 */
function run(file, args, { env = process.env, timeoutMs, label }) {
  if (isInterrupted) return Promise.resolve(1);
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: root, stdio: 'inherit', env, detached: true });
    current = child;
    const timer = setTimeout(() => {
      console.error(`test: ${label} still running after ${formatDuration(timeoutMs)}; killing it`);
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    const finish = (code) => {
      clearTimeout(timer);
      // Whatever the step left running in its group goes with it.
      killGroup(child, 'SIGKILL');
      current = undefined;
      resolve(code);
    };
    child.on('error', (error) => {
      console.error(`test: could not run ${label}: ${error.message}`);
      finish(1);
    });
    child.on('exit', (code) => finish(code ?? 1));
  });
}

const MINUTE = 60_000;

/**
 * Integration suites run on the machine's Node only: each drives lastcall through code the other
 * suites run on every line (the CLI, the master, the terminator), and what it adds is not about
 * the Node line but about a document or a tool, so that `npm test` stays within its 30 minutes.
 */
const MACHINE_LINE_ONLY = [
  { pattern: 'demo\\.integration', why: "the README's demo, run as `npm start` runs it" },
  { pattern: 'migrating-examples\\.integration', why: "the migrating pages' examples" },
  { pattern: 'bench-cluster\\.integration', why: 'the cluster bench tool itself' },
];

/**
 * @param {string} heading
 */
function announce(heading) {
  process.stdout.write(`\n=== ${heading}\n`);
}

/**
 * Runs jest with `args` on `nodeBinary` and tallies its tests.
 * @param {string} nodeBinary
 * @param {string[]} args
 * @param {string} tag a file-safe name for its results
 * @param {NodeJS.ProcessEnv} [extraEnv] added to the environment
 * @returns {Promise<Tally>}
 */
async function runJest(nodeBinary, args, tag, extraEnv = {}) {
  const outputFile = path.join(resultsDir, `jest-${tag}.json`);
  const code = await run(
    nodeBinary,
    [jestBin, '--ci', ...args, '--json', '--outputFile', outputFile],
    {
      env: { ...envForNode(nodeBinary), ...extraEnv },
      timeoutMs: 30 * MINUTE,
      label: 'jest',
    },
  );
  let results;
  try {
    results = JSON.parse(fs.readFileSync(outputFile, 'utf8'));
  } catch {
    results = undefined;
  }
  return tallyJest(results, code);
}

/** @returns {Promise<LineResult>} */
async function runHere() {
  const started = Date.now();
  const label = `Node ${process.version} (this machine)`;
  const tallies = [];
  const parts = [];
  /** @param {string} name @param {Tally} tally */
  const record = (name, tally) => {
    tallies.push(tally);
    parts.push(tally.failed === 0 ? name : `${name} FAILED`);
  };
  const npm = (script, timeoutMs) =>
    run('npm', ['run', '--silent', script], { timeoutMs, label: `npm run ${script}` });
  const script = (file, timeoutMs) =>
    run(process.execPath, [path.join(__dirname, file)], { timeoutMs, label: file });

  announce(`${label}: system tools`);
  record('system-deps', tallyStep(await script('system-deps.js', 15 * MINUTE)));
  if (tallies[0]?.failed === 0) {
    announce(`${label}: build`);
    record('build', tallyStep(await npm('build', 15 * MINUTE)));
  }
  if (addTallies(tallies).failed > 0) {
    return { label, tally: addTallies(tallies), ms: Date.now() - started, parts };
  }
  announce(`${label}: lint`);
  record('lint', tallyStep(await npm('lint', 15 * MINUTE)));
  announce(`${label}: check-packages`);
  record('check-packages', tallyStep(await npm('check-packages', 5 * MINUTE)));
  announce(`${label}: unit and integration tests`);
  const jest = await runJest(process.execPath, [], 'here');
  record(`${String(jest.passed + jest.failed)} tests`, jest);
  announce(`${label}: pack-smoke`);
  record('pack-smoke', tallyStep(await script('pack-smoke.js', 15 * MINUTE)));
  return { label, tally: addTallies(tallies), ms: Date.now() - started, parts };
}

/**
 * @param {import('./lib/node-lines').NodeLine} line
 * @returns {Promise<LineResult>}
 */
async function runLine(line) {
  const started = Date.now();
  const label = `Node v${line.version}`;
  const parts = [];
  let binary;
  announce(`${label}: fetching the binary`);
  try {
    binary = ensureNodeBinary(line.version, cacheDir(root));
  } catch (error) {
    console.error(`test: ${error instanceof Error ? error.message : String(error)}`);
    return {
      label,
      tally: { passed: 0, failed: 1 },
      ms: Date.now() - started,
      parts: ['fetch FAILED'],
    };
  }
  announce(`${label}: integration tests`);
  const jest = await runJest(
    binary,
    [
      '--selectProjects',
      'integration',
      '--testPathIgnorePatterns',
      '/node_modules/',
      ...MACHINE_LINE_ONLY.map((entry) => entry.pattern),
    ],
    `node${String(line.major)}`,
    // Suites with rounds run fewer of them here: the machine's line runs them all.
    { LASTCALL_TEST_PINNED_LINE: '1' },
  );
  parts.push(
    `${String(jest.passed + jest.failed)} integration tests${jest.failed > 0 ? ' FAILED' : ''}`,
  );
  announce(`${label}: pack-smoke`);
  const smoke = tallyStep(
    await run(binary, [path.join(__dirname, 'pack-smoke.js')], {
      env: envForNode(binary),
      timeoutMs: 15 * MINUTE,
      label: 'pack-smoke.js',
    }),
  );
  parts.push(smoke.failed === 0 ? 'pack-smoke' : 'pack-smoke FAILED');
  return { label, tally: addTallies([jest, smoke]), ms: Date.now() - started, parts };
}

async function main() {
  const lines = readLinesOption();
  const started = Date.now();
  const results = [await runHere()];
  const buildFailed = results[0]?.parts.some((part) => /^(system-deps|build) FAILED$/.test(part));
  if (buildFailed !== true) for (const line of lines) results.push(await runLine(line));
  fs.rmSync(resultsDir, { recursive: true, force: true });

  const total = addTallies(results.map((result) => result.tally));
  process.stdout.write('\n');
  for (const result of results) {
    process.stdout.write(
      `${result.label}: ${summaryLine(result.tally)} in ${formatDuration(result.ms)} (${result.parts.join(', ')})\n`,
    );
  }
  process.stdout.write(`all lines: ${formatDuration(Date.now() - started)}\n`);
  process.stdout.write(`${summaryLine(total)}\n`);
  if (!isInterrupted) process.exitCode = total.failed === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.stdout.write('0 passed, 1 failed\n');
  process.exitCode = 1;
});
