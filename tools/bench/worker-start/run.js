#!/usr/bin/env node
'use strict';

// How much later a worker under lastcall listens than the same app forked bare, and how much
// more memory it holds at idle. Each sample is a fresh primary process (primary.js) that forks
// one worker of app.js and measures the ms from just before cluster.fork() to the worker's
// 'listening' event, then the worker's VmRSS after it idled. The variants of one repetition run
// one after the other in a shuffled order; the differences to `bare` are also taken within each
// repetition. Then one untimed run per variant lists the modules its worker loaded. See
// README.md; a run without options writes docs/benchmarks/worker-start.{md,json}.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { failUsage, readBenchArgs } = require('../lib/args');
const { REPO_ROOT, machineLine, writeMarkdownReport } = require('../lib/report');
const { shuffle } = require('../lib/shuffle');
const { summarize } = require('../terminator/lib/stats');

const VARIANTS = ['bare', 'empty-preload', 'runtime', 'master'];
const DEFAULTS = { reps: 15, idle: 1000 };
const USAGE = `usage: node tools/bench/worker-start/run.js [options]

  --reps N          repetitions; each runs every variant once, in a shuffled order (default ${DEFAULTS.reps})
  --idle MS         how long a worker idles after it listens before its RSS is read (default ${DEFAULTS.idle})
  --variants LIST   comma-separated, from ${VARIANTS.join(', ')} (default all; bare is always run)
  --baseline DIR    also run the worker runtime of another built checkout of lastcall (for
                    instance \`git archive\` of the previous commit, built) as the variant
                    runtime-baseline, to compare two versions in the same run
  --seed N          seed of the shuffles (default: the time)
  --out DIR         folder for worker-start.md and .json; default docs/benchmarks for a run
                    without options, else $TMPDIR/lastcall-bench-worker-start
  --help            this text

Variants, all the same app.js forked by a node:cluster primary (silent, as @lastcall/master forks):
  bare            nothing else
  empty-preload   --require of an empty file: what any preload costs
  runtime         --require of @lastcall/master's worker runtime, with the environment the master gives
  master          @lastcall/master itself, one worker, default options (setsid, the runtime)

Build first: npm run build (or npx tsc -b packages/master).`;

const argv = process.argv.slice(2);
const { values } = readBenchArgs(
  USAGE,
  {
    reps: { type: 'string' },
    idle: { type: 'string' },
    variants: { type: 'string' },
    seed: { type: 'string' },
    baseline: { type: 'string' },
    out: { type: 'string' },
  },
  argv,
);

function wholeNumber(name, fallback, min) {
  if (values[name] === undefined) return fallback;
  const number = Number(values[name]);
  if (!Number.isInteger(number) || number < min) {
    failUsage(USAGE, `--${name} must be a whole number >= ${String(min)}, got ${values[name]}`);
  }
  return number;
}

const reps = wholeNumber('reps', DEFAULTS.reps, 1);
const idle = wholeNumber('idle', DEFAULTS.idle, 0);
const seed = wholeNumber('seed', Date.now() % 2 ** 31, 0);
const variants = (() => {
  if (values.variants === undefined) return [...VARIANTS];
  const asked = values.variants.split(',').filter((name) => name !== '');
  const unknown = asked.filter((name) => !VARIANTS.includes(name));
  if (unknown.length > 0) failUsage(USAGE, `unknown variant ${unknown.join(', ')}`);
  return VARIANTS.filter((name) => name === 'bare' || asked.includes(name));
})();
const baseline = values.baseline === undefined ? undefined : path.resolve(values.baseline);
if (baseline !== undefined) {
  if (!fs.existsSync(path.join(baseline, 'packages/master/dist/worker/runtime.js'))) {
    failUsage(
      USAGE,
      `--baseline ${values.baseline}: no built packages/master/dist/worker/runtime.js`,
    );
  }
  variants.splice(variants.indexOf('runtime') + 1 || variants.length, 0, 'runtime-baseline');
}

const PRIMARY = path.join(__dirname, 'primary.js');

if (!fs.existsSync(path.join(REPO_ROOT, 'packages/master/dist/worker/runtime.js'))) {
  process.stderr.write('packages/master is not built: run npm run build first\n');
  process.exit(1);
}

/** One sample of `variant`; with `probe`, the file its worker writes its module list to. */
function measure(variant, probe) {
  // A probe run idles long enough for probe-app.js to write its list.
  const idleMs = probe === undefined ? idle : Math.max(idle, 1000);
  const result = spawnSync(process.execPath, [PRIMARY, variant, String(idleMs)], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      ...(baseline === undefined ? {} : { WORKER_START_BASELINE: baseline }),
      ...(probe === undefined ? {} : { WORKER_START_PROBE: probe }),
    },
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    throw new Error(
      `${variant}: primary.js exited ${String(result.status ?? result.signal)}: ${result.stderr.trim()}`,
    );
  }
  return JSON.parse(line);
}

const samples = [];
for (let rep = 0; rep < reps; rep += 1) {
  for (const variant of shuffle(variants, seed + rep)) {
    samples.push({ rep, ...measure(variant) });
  }
  process.stderr.write(`rep ${String(rep + 1)}/${String(reps)}\n`);
}

/** Per variant, the modules its worker had loaded once it listened and idled. */
function probeModules() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-worker-start-'));
  const modules = {};
  try {
    for (const variant of variants) {
      const file = path.join(dir, `${variant}.json`);
      measure(variant, file);
      modules[variant] = JSON.parse(fs.readFileSync(file, 'utf8'));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return modules;
}
const modules = probeModules();

const byVariant = (variant, key) =>
  samples.filter((sample) => sample.variant === variant).map((sample) => sample[key]);
/** `variant`'s value minus bare's, within each repetition. */
const pairedDifferences = (variant, key) => {
  const differences = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const of = (name) => samples.find((s) => s.rep === rep && s.variant === name)?.[key];
    const value = of(variant);
    const bare = of('bare');
    if (value !== undefined && bare !== undefined) differences.push(value - bare);
  }
  return differences;
};

const summary = {};
for (const variant of variants) {
  summary[variant] = {
    forkToListenMs: summarize(byVariant(variant, 'forkToListenMs')),
    startToListenMs: summarize(byVariant(variant, 'startToListenMs')),
    cpuToListenMs: summarize(byVariant(variant, 'cpuToListenMs')),
    cpuMs: summarize(byVariant(variant, 'mainThreadCpuMs')),
    allThreadsCpuMs: summarize(byVariant(variant, 'allThreadsCpuMs')),
    rssMiB: summarize(byVariant(variant, 'rssKiB').map((kib) => kib / 1024)),
    rssAnonMiB: summarize(byVariant(variant, 'rssAnonKiB').map((kib) => kib / 1024)),
    rssFileMiB: summarize(byVariant(variant, 'rssFileKiB').map((kib) => kib / 1024)),
    overBare: {
      forkToListenMs: summarize(pairedDifferences(variant, 'forkToListenMs')),
      startToListenMs: summarize(pairedDifferences(variant, 'startToListenMs')),
      cpuToListenMs: summarize(pairedDifferences(variant, 'cpuToListenMs')),
      cpuMs: summarize(pairedDifferences(variant, 'mainThreadCpuMs')),
      rssMiB: summarize(pairedDifferences(variant, 'rssKiB').map((kib) => kib / 1024)),
      rssAnonMiB: summarize(pairedDifferences(variant, 'rssAnonKiB').map((kib) => kib / 1024)),
      rssFileMiB: summarize(pairedDifferences(variant, 'rssFileKiB').map((kib) => kib / 1024)),
    },
  };
}

const bareFiles = new Set(modules.bare?.files ?? []);
const bareBuiltins = new Set(modules.bare?.builtins ?? []);
const relative = (file) => path.relative(REPO_ROOT, file);
const moduleSummary = {};
for (const variant of variants) {
  const entry = modules[variant];
  moduleSummary[variant] = {
    files: entry.files.length,
    builtins: entry.builtins.length,
    moduleLoadList: entry.moduleLoadList,
    extraFiles: entry.files.filter((file) => !bareFiles.has(file)).map(relative),
    extraBuiltins: entry.builtins
      .filter((name) => !bareBuiltins.has(name))
      .map((name) => name.slice('NativeModule '.length)),
  };
}

const fixed = (value, digits = 1) => (value === null ? '–' : value.toFixed(digits));
const range = (s, digits = 1) =>
  `${fixed(s.median, digits)} [${fixed(s.min, digits)}–${fixed(s.max, digits)}]`;
const signed = (value, digits = 1) => (value >= 0 ? '+' : '') + fixed(value, digits);

const bare = summary.bare;
const lines = [
  '# Worker start: fork to first listen, and RSS at idle',
  '',
  `${machineLine()}. ${String(reps)} repetitions, each running every variant once in a shuffled ` +
    `order (seed ${String(seed)}); RSS read ${String(idle)} ms after the worker listened. ` +
    `Generated by \`node tools/bench/worker-start/run.js${argv.length ? ` ${argv.join(' ')}` : ''}\` ` +
    `on ${new Date().toISOString().slice(0, 10)}. Median [min–max]; "over bare" is the median of the ` +
    'differences to bare within each repetition.',
  '',
  'Every variant forks the same app.js (a bare `http.createServer(...).listen(0)`) from a fresh ' +
    'node:cluster primary. "fork → listening" runs in the primary from just before ' +
    '`cluster.fork()` to the worker\'s `\'listening\'` event there; "start → listen" and "CPU to ' +
    'listen" are what the worker itself measured when its server listened (`performance.now()`, ' +
    'ms since its process started, and `process.cpuUsage()`), which a busy primary does not move. ' +
    'CPU time is moved much less than wall time by a busy machine. RSS is VmRSS from ' +
    '/proc/<pid>/status.',
  '',
  '| variant | fork → listening (ms) | over bare | ratio | start → listen (ms) | over bare | CPU to listen (ms) | over bare | ratio | RSS at idle (MiB) | over bare |',
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ...variants.map((variant) => {
    const s = summary[variant];
    return (
      `| ${variant} | ${range(s.forkToListenMs)} | ${signed(s.overBare.forkToListenMs.median)} | ` +
      `${fixed(s.forkToListenMs.median / bare.forkToListenMs.median, 2)} | ` +
      `${range(s.startToListenMs)} | ${signed(s.overBare.startToListenMs.median)} | ` +
      `${range(s.cpuToListenMs)} | ${signed(s.overBare.cpuToListenMs.median)} | ` +
      `${fixed(s.cpuToListenMs.median / bare.cpuToListenMs.median, 2)} | ` +
      `${range(s.rssMiB)} | ${signed(s.overBare.rssMiB.median)} |`
    );
  }),
  '',
  "RSS in two parts: anonymous (the process's own memory: heap, stacks, malloc) and file-backed " +
    '(pages of the node binary and libraries, shared with every other node process of the host).',
  '',
  '| variant | RssAnon (MiB) | over bare | RssFile (MiB) | over bare |',
  '|---|--:|--:|--:|--:|',
  ...variants.map((variant) => {
    const s = summary[variant];
    return (
      `| ${variant} | ${range(s.rssAnonMiB)} | ${signed(s.overBare.rssAnonMiB.median)} | ` +
      `${range(s.rssFileMiB)} | ${signed(s.overBare.rssFileMiB.median)} |`
    );
  }),
  '',
  '## Modules loaded by the worker, once it listened',
  '',
  '| variant | files in require.cache | builtins | process.moduleLoadList |',
  '|---|--:|--:|--:|',
  ...variants.map((variant) => {
    const m = moduleSummary[variant];
    const base = moduleSummary.bare;
    const delta = (key) => (variant === 'bare' ? '' : ` (${signed(m[key] - base[key], 0)})`);
    return (
      `| ${variant} | ${String(m.files)}${delta('files')} | ${String(m.builtins)}${delta('builtins')} | ` +
      `${String(m.moduleLoadList)}${delta('moduleLoadList')} |`
    );
  }),
  '',
  ...['runtime', 'runtime-baseline']
    .filter((variant) => moduleSummary[variant] !== undefined)
    .flatMap((variant) => {
      const { extraBuiltins, extraFiles } = moduleSummary[variant];
      return [
        `Builtins ${variant} adds: ${extraBuiltins.map((n) => `\`${n}\``).join(', ') || 'none'}.`,
        '',
        `Files ${variant} adds (${String(extraFiles.length)}): ` +
          `${extraFiles.map((f) => `\`${f}\``).join(', ')}.`,
        '',
      ];
    }),
];

void (async () => {
  const file = await writeMarkdownReport({
    lines,
    fileName: 'worker-start.md',
    argv,
    out: values.out,
    tmpName: 'lastcall-bench-worker-start',
  });
  const json = file.replace(/\.md$/, '.json');
  fs.writeFileSync(
    json,
    `${JSON.stringify(
      {
        machine: machineLine(),
        date: new Date().toISOString(),
        reps,
        idle,
        seed,
        baseline,
        variants,
        summary,
        modules: moduleSummary,
        samples,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n\nwrote ${file} and ${json}\n`);
})();
