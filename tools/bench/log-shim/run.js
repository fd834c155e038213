#!/usr/bin/env node
'use strict';

// The cost of @lastcall/log-shim itself: ns per `getLogger(name).info('msg', { a: 1 })` against
// the same host logger called directly with its own call shape. See README.md, and
// docs/benchmarks/log-shim.md for the latest committed results.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Writable } = require('node:stream');
const { parseArgs } = require('node:util');
const { summarize, shuffle } = require('../terminator/lib/stats');

const REPO_ROOT = path.resolve(__dirname, '../../..');
const DEFAULTS = { reps: 60, calls: 20_000, warmup: 50_000 };
const USAGE = `Usage: node tools/bench/log-shim/run.js [--reps N] [--calls N] [--warmup N] [--out DIR]

  --reps N     repetitions; each runs shim and direct once per logger (default ${DEFAULTS.reps})
  --calls N    log calls per measurement (default ${DEFAULTS.calls})
  --warmup N   calls of each variant before the first measurement (default ${DEFAULTS.warmup})
  --out DIR    folder for log-shim.md; default docs/benchmarks for a default run, else
               $TMPDIR/lastcall-bench-log-shim
`;

function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      calls: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const count = (name) => {
    if (values[name] === undefined) return DEFAULTS[name];
    const number = Number(values[name]);
    if (!Number.isInteger(number) || number < 1) {
      throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
    }
    return number;
  };
  return {
    help: values.help === true,
    reps: count('reps'),
    calls: count('calls'),
    warmup: count('warmup'),
    out: values.out,
  };
}

function loadShim() {
  try {
    return require('@lastcall/log-shim');
  } catch (error) {
    throw new Error(
      `cannot load @lastcall/log-shim (${error.message}); build it first: npm run build`,
      { cause: error },
    );
  }
}

/** A sink that accepts every chunk at once and keeps nothing, so I/O does not dominate. */
function nullStream(objectMode = false) {
  return new Writable({
    objectMode,
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/**
 * The host loggers, each writing JSON into a null stream, and how each is called directly.
 * All log at `info`, so every call below is formatted and written.
 */
const HOSTS = [
  {
    name: 'winston',
    create() {
      const winston = require('winston');
      return winston.createLogger({
        level: 'info',
        format: winston.format.json(),
        transports: [new winston.transports.Stream({ stream: nullStream(true) })],
      });
    },
    direct: (logger) => () => logger.info('msg', { name: 'bench', a: 1 }),
    directShape: "`logger.info('msg', { name: 'bench', a: 1 })`",
    setup: '`createLogger({ format: json(), transports: [Stream({ stream: null sink })] })`',
  },
  {
    name: 'pino',
    create() {
      return require('pino')({ level: 'info' }, nullStream());
    },
    direct: (logger) => () => logger.info({ name: 'bench', a: 1 }, 'msg'),
    directShape: "`logger.info({ name: 'bench', a: 1 }, 'msg')`",
    setup: '`pino({ level: info }, null sink)`',
  },
  {
    name: 'bunyan',
    create() {
      return require('bunyan').createLogger({
        name: 'bench',
        streams: [{ level: 'info', stream: nullStream() }],
      });
    },
    direct: (logger) => () => logger.info({ module: 'bench', a: 1 }, 'msg'),
    directShape: "`logger.info({ module: 'bench', a: 1 }, 'msg')`",
    setup: '`createLogger({ name, streams: [{ level: info, stream: null sink }] })`',
  },
];

function libraryVersion(name) {
  return require(`${name}/package.json`).version;
}

/**
 * CPU ns (user + system) per call of `call`, run `calls` times. CPU time, not wall time: on a
 * shared VM the time the host steals from us lands in wall time but not here.
 */
function measure(call, calls) {
  const before = process.cpuUsage();
  for (let index = 0; index < calls; index += 1) call();
  const { user, system } = process.cpuUsage(before);
  return ((user + system) * 1000) / calls;
}

/** Lets queued stream writes and timers run, so one measurement's backlog is not the next's. */
function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

function formatNs(value) {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** The median ratio with its interquartile range: min and max of many short pairs are noise. */
function ratioCell({ median, q1, q3 }) {
  return `×${median.toFixed(3)} [${q1.toFixed(3)}–${q3.toFixed(3)}]`;
}

function cell({ median, min, max }) {
  return `${formatNs(median)} [${formatNs(min)}–${formatNs(max)}]`;
}

function renderMarkdown({ meta, rows }) {
  const lines = [
    '# @lastcall/log-shim — the cost of the shim',
    '',
    'Generated by `tools/bench/log-shim/run.js`; do not edit by hand.',
    '',
    "Each host logger writes JSON into a null stream (a `Writable` that drops every chunk), so what is measured is the loggers' own work and the shim's, not I/O. Both calls write the same record: the direct call carries the module name the shim adds (`name: 'bench'`; bunyan reserves `name`, so the shim and the direct call put it under `module`). Per repetition the loggers run in a shuffled order and, for each logger, the direct and the shim call run back to back in a shuffled order, each for the same number of `info` calls after a common warm-up, in one process. Cells are CPU ns (user + system) per call, **median [min–max]** over the repetitions; CPU time rather than wall time because the time a shared VM's host takes away shows in wall time only. The ratio is computed per repetition from the pair that ran back to back (shim / direct), so slow drifts of the machine cancel out, and given as **median [q1–q3]** (the interquartile range: with many short pairs on a shared VM, the extremes are the VM's noise).",
    '',
    `- Command: \`${meta.command}\``,
    `- Node ${meta.node} on ${meta.platform}, ${meta.cpus} × ${meta.cpuModel}`,
    `- Date: ${meta.date}; ${meta.reps} repetitions × ${meta.calls.toLocaleString('en-US')} calls, warm-up ${meta.warmup.toLocaleString('en-US')} calls per variant; total ${(meta.durationMs / 1000).toFixed(1)} s`,
    '',
    '| logger | version | set up as | direct call | shim call | direct (ns/call) | shim (ns/call) | shim / direct |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${row.version} | ${row.setup} | ${row.directShape} | \`getLogger('bench').info('msg', { a: 1 })\` | ${cell(row.direct)} | ${cell(row.shim)} | ${ratioCell(row.ratio)} |`,
    );
  }
  lines.push(
    '',
    "Per call the shim checks that the level is enabled, reads the two argument orders and passes the caller's object on as it is (copying it only to serialise an Error in it or, for winston, which writes into the object it is given). Its bindings reach pino and bunyan once, through a child logger of their own.",
    '',
  );
  return lines.join('\n');
}

/** Formats with the repo's prettier settings, so that `npm run lint` accepts the file as is. */
async function formatMarkdown(markdown) {
  try {
    const prettier = require('prettier');
    const configFor = path.join(REPO_ROOT, 'docs', 'benchmarks', 'log-shim.md');
    const config = (await prettier.resolveConfig(configFor)) || {};
    return await prettier.format(markdown, { ...config, parser: 'markdown' });
  } catch (error) {
    process.stderr.write(`prettier unavailable (${error.message}); writing unformatted markdown\n`);
    return markdown;
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const options = readOptions(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { getLogger, setLogger } = loadShim();
  const isDefaultRun = argv.length === 0;
  const outDir = options.out
    ? path.resolve(options.out)
    : isDefaultRun
      ? path.join(REPO_ROOT, 'docs', 'benchmarks')
      : path.join(os.tmpdir(), 'lastcall-bench-log-shim');
  const isNpmScript = process.env.npm_lifecycle_event === 'bench:log-shim';
  const args = argv.join(' ');
  const command = isNpmScript
    ? `npm run bench:log-shim${args ? ` -- ${args}` : ''}`
    : `node tools/bench/log-shim/run.js${args ? ` ${args}` : ''}`;
  const startedAt = process.hrtime.bigint();

  // One logger per host for the whole run; the shim variant re-points setLogger at it before each
  // of its measurements, as an app does once at start-up.
  const variants = HOSTS.flatMap((host) => {
    const logger = host.create();
    const shimLogger = getLogger('bench');
    return [
      { host, kind: 'direct', logger, call: host.direct(logger) },
      { host, kind: 'shim', logger, call: () => shimLogger.info('msg', { a: 1 }) },
    ];
  });
  const run = async (variant, calls) => {
    setLogger(variant.kind === 'shim' ? variant.logger : undefined);
    await settle();
    const nsPerCall = measure(variant.call, calls);
    await settle();
    return nsPerCall;
  };

  process.stdout.write(
    `log-shim benchmark: ${options.reps} reps × ${options.calls} calls, warm-up ${options.warmup}\n`,
  );
  for (const variant of variants) await run(variant, options.warmup);
  const samples = new Map(variants.map((variant) => [variant, []]));
  const ratios = new Map(HOSTS.map((host) => [host, []]));
  for (let rep = 1; rep <= options.reps; rep += 1) {
    // Hosts in a shuffled order; within a host, direct and shim back to back in a shuffled order,
    // so each pair ran under the same machine conditions and gives one ratio.
    for (const host of shuffle(HOSTS, rep)) {
      const pair = shuffle(
        variants.filter((variant) => variant.host === host),
        rep * 31 + HOSTS.indexOf(host),
      );
      const nsPerCall = {};
      for (const variant of pair) {
        nsPerCall[variant.kind] = await run(variant, options.calls);
        samples.get(variant).push(nsPerCall[variant.kind]);
      }
      ratios.get(host).push(nsPerCall.shim / nsPerCall.direct);
      process.stdout.write(
        `[rep ${rep}] ${host.name.padEnd(8)} direct ${formatNs(nsPerCall.direct)} shim ${formatNs(nsPerCall.shim)} ns/call  ×${(nsPerCall.shim / nsPerCall.direct).toFixed(3)}\n`,
      );
    }
  }
  setLogger(undefined);

  const rows = HOSTS.map((host) => {
    const of = (kind) =>
      summarize(samples.get(variants.find((v) => v.host === host && v.kind === kind)));
    const direct = of('direct');
    const shim = of('shim');
    return {
      name: host.name,
      version: libraryVersion(host.name),
      setup: host.setup,
      directShape: host.directShape,
      direct,
      shim,
      ratio: summarize(ratios.get(host)),
    };
  });
  const cpu = os.cpus()[0];
  const meta = {
    command,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: (cpu && cpu.model.trim()) || 'unknown',
    date: new Date().toISOString(),
    reps: options.reps,
    calls: options.calls,
    warmup: options.warmup,
    durationMs: Number(process.hrtime.bigint() - startedAt) / 1e6,
  };
  for (const row of rows) {
    process.stdout.write(
      `${row.name.padEnd(8)} direct ${cell(row.direct)}  shim ${cell(row.shim)}  ${ratioCell(row.ratio)}\n`,
    );
  }
  fs.mkdirSync(outDir, { recursive: true });
  const markdownPath = path.join(outDir, 'log-shim.md');
  fs.writeFileSync(markdownPath, await formatMarkdown(renderMarkdown({ meta, rows })));
  process.stdout.write(`wrote ${markdownPath}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
