#!/usr/bin/env node
'use strict';

// The cost of @lastcall/log-shim itself, redaction included: ns per `getLogger(name)` call for
// four cases (a plain message, a message with fields, a message with an Error, fields holding a
// secret) against the same host logger called directly with its own call shape. See README.md,
// and docs/benchmarks/log-shim.md for the latest committed results.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Writable } = require('node:stream');
const { readBenchArgs } = require('../lib/args');
const { summarize, shuffle } = require('../terminator/lib/stats');

const REPO_ROOT = path.resolve(__dirname, '../../..');
const DEFAULTS = { reps: 60, calls: 20_000, warmup: 50_000 };
const USAGE = `Usage: node tools/bench/log-shim/run.js [--reps N] [--calls N] [--warmup N] [--out DIR]

  --reps N     repetitions; each runs shim and direct once per logger and case (default ${DEFAULTS.reps})
  --calls N    log calls per measurement (default ${DEFAULTS.calls})
  --warmup N   calls of each variant before the first measurement (default ${DEFAULTS.warmup})
  --out DIR    folder for log-shim.md; default docs/benchmarks for a default run, else
               $TMPDIR/lastcall-bench-log-shim
  --help       this text
`;

function readOptions(argv) {
  const { values } = readBenchArgs(
    USAGE,
    {
      reps: { type: 'string' },
      calls: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    argv,
  );
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

/** The host loggers, each writing JSON into a null stream; all log at `info`. */
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
    setup: '`createLogger({ format: json(), transports: [Stream({ stream: null sink })] })`',
  },
  {
    name: 'pino',
    create() {
      return require('pino')({ level: 'info' }, nullStream());
    },
    setup: '`pino({ level: info }, null sink)`',
  },
  {
    name: 'bunyan',
    create() {
      const bunyan = require('bunyan');
      return bunyan.createLogger({
        name: 'bench',
        serializers: { err: bunyan.stdSerializers.err },
        streams: [{ level: 'info', stream: nullStream() }],
      });
    },
    setup:
      '`createLogger({ name, serializers: { err }, streams: [{ level: info, stream: null sink }] })`',
  },
];

/** The Error of the error case: a code and a cause, as a driver's errors have. */
function benchError() {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
    code: 'ECONNREFUSED',
  });
  return Object.assign(new Error('query failed', { cause }), { code: 'DB_QUERY' });
}

const SECRET_FIELDS = { url: 'postgres://app:s3cret@db.internal:5432/app', retry: 2 };

/**
 * What is logged, through the shim and directly. The direct call writes the record the app would
 * write without the shim: the module name it carries (`module` for bunyan, which reserves
 * `name`), and the Error the way each host takes one (winston merges an Error given as meta into
 * its message and stack; pino and bunyan use their `err` serializer).
 */
const CASES = [
  {
    name: 'plain message',
    shim: (log) => () => log.info('listening'),
    shimShape: "`info('listening')`",
    direct: {
      winston: (logger) => () => logger.info('listening', { name: 'bench' }),
      pino: (logger) => () => logger.info({ name: 'bench' }, 'listening'),
      bunyan: (logger) => () => logger.info({ module: 'bench' }, 'listening'),
    },
    directShape: "`info('listening', { name })` (winston), `info({ name }, 'listening')`",
  },
  {
    name: 'message with fields',
    shim: (log) => () => log.info('msg', { a: 1 }),
    shimShape: "`info('msg', { a: 1 })`",
    direct: {
      winston: (logger) => () => logger.info('msg', { name: 'bench', a: 1 }),
      pino: (logger) => () => logger.info({ name: 'bench', a: 1 }, 'msg'),
      bunyan: (logger) => () => logger.info({ module: 'bench', a: 1 }, 'msg'),
    },
    directShape: "`info('msg', { name, a: 1 })` (winston), `info({ name, a: 1 }, 'msg')`",
  },
  {
    name: 'message with an Error',
    shim: (log, error) => () => log.info('query failed', error),
    shimShape: "`info('query failed', error)`",
    direct: {
      winston: (logger, error) => () => logger.info('query failed', error),
      pino: (logger, error) => () => logger.info({ name: 'bench', err: error }, 'query failed'),
      bunyan: (logger, error) => () => logger.info({ module: 'bench', err: error }, 'query failed'),
    },
    directShape:
      "`info('query failed', error)` (winston), `info({ name, err: error }, 'query failed')`",
  },
  {
    name: 'fields holding a secret',
    shim: (log) => () => log.info('connecting', SECRET_FIELDS),
    shimShape: "`info('connecting', { url: 'postgres://app:s3cret@…', retry: 2 })`",
    direct: {
      winston: (logger) => () => logger.info('connecting', { name: 'bench', ...SECRET_FIELDS }),
      pino: (logger) => () => logger.info({ name: 'bench', ...SECRET_FIELDS }, 'connecting'),
      bunyan: (logger) => () => logger.info({ module: 'bench', ...SECRET_FIELDS }, 'connecting'),
    },
    directShape: 'the same fields, unredacted',
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
    "Each host logger writes JSON into a null stream (a `Writable` that drops every chunk), so what is measured is the loggers' own work and the shim's, not I/O. The shim's cost includes its redaction step: every event's message, fields and Errors are scanned for secrets before the host logger sees them, and copied only where one is found. The direct call writes the record the app would write without the shim: it carries the module name the shim adds (`name: 'bench'`; bunyan reserves `name`, so both put it under `module`), the same fields, unredacted, and an Error the way each host takes one. Per repetition the (case, logger) pairs run in a shuffled order and, for each, the direct and the shim call run back to back in a shuffled order, each for the same number of `info` calls after a common warm-up, in one process. Cells are CPU ns (user + system) per call, **median [min–max]** over the repetitions; CPU time rather than wall time because the time a shared VM's host takes away shows in wall time only. The ratio is computed per repetition from the pair that ran back to back (shim / direct), so slow drifts of the machine cancel out, and given as **median [q1–q3]** (the interquartile range: with many short pairs on a shared VM, the extremes are the VM's noise).",
    '',
    `- Command: \`${meta.command}\``,
    `- Node ${meta.node} on ${meta.platform}, ${meta.cpus} × ${meta.cpuModel}; load average (1 min) ${meta.loadBefore} at the start, ${meta.loadAfter} at the end`,
    `- Date: ${meta.date}; ${meta.reps} repetitions × ${meta.calls.toLocaleString('en-US')} calls, warm-up ${meta.warmup.toLocaleString('en-US')} calls per variant; total ${(meta.durationMs / 1000).toFixed(1)} s`,
    `- Loggers: ${meta.hosts.map((host) => `${host.name} ${host.version}, ${host.setup}`).join('; ')}`,
    '',
    '| case | shim call | direct call | logger | direct (ns/call) | shim (ns/call) | shim / direct |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.case.name} | ${row.case.shimShape} | ${row.case.directShape} | ${row.host.name} | ${cell(row.direct)} | ${cell(row.shim)} | ${ratioCell(row.ratio)} |`,
    );
  }
  lines.push(
    '',
    "Per call the shim checks that the level is enabled, reads the two argument orders, runs the message and each string of the fields through one precompiled test for secret words (and the secret environment values, read once), looks each key up in a cache of secret names, and passes the caller's object on as it is when nothing is found (copying it only to replace a secret, to serialise an Error in it or, for winston, which writes into the object it is given). Its bindings are redacted once and reach pino and bunyan once, through a child logger of their own. An Error is serialised (name, message, code, stack, cause chain, own properties) and redacted: its stack and cause are text to scan, which is what the Error case measures.",
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
  const shimLogger = getLogger('bench');
  const error = benchError();
  const pairs = HOSTS.flatMap((host) => {
    const logger = host.create();
    return CASES.map((benchCase) => ({
      host,
      case: benchCase,
      variants: [
        { kind: 'direct', logger, call: benchCase.direct[host.name](logger, error), samples: [] },
        { kind: 'shim', logger, call: benchCase.shim(shimLogger, error), samples: [] },
      ],
      ratios: [],
    }));
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
  const loadBefore = os.loadavg()[0].toFixed(2);
  for (const pair of pairs) for (const variant of pair.variants) await run(variant, options.warmup);
  for (let rep = 1; rep <= options.reps; rep += 1) {
    // Pairs in a shuffled order; within a pair, direct and shim back to back in a shuffled order,
    // so each pair ran under the same machine conditions and gives one ratio.
    for (const [index, pair] of shuffle(pairs, rep).entries()) {
      const nsPerCall = {};
      for (const variant of shuffle(pair.variants, rep * 31 + index)) {
        nsPerCall[variant.kind] = await run(variant, options.calls);
        variant.samples.push(nsPerCall[variant.kind]);
      }
      pair.ratios.push(nsPerCall.shim / nsPerCall.direct);
      process.stdout.write(
        `[rep ${rep}] ${pair.case.name.padEnd(24)} ${pair.host.name.padEnd(8)} direct ${formatNs(nsPerCall.direct)} shim ${formatNs(nsPerCall.shim)} ns/call  ×${(nsPerCall.shim / nsPerCall.direct).toFixed(3)}\n`,
      );
    }
  }
  setLogger(undefined);

  const rows = CASES.flatMap((benchCase) =>
    HOSTS.map((host) => {
      const pair = pairs.find((p) => p.case === benchCase && p.host === host);
      const [direct, shim] = ['direct', 'shim'].map((kind) =>
        summarize(pair.variants.find((variant) => variant.kind === kind).samples),
      );
      return { case: benchCase, host, direct, shim, ratio: summarize(pair.ratios) };
    }),
  );
  const cpu = os.cpus()[0];
  const meta = {
    command,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: (cpu && cpu.model.trim()) || 'unknown',
    loadBefore,
    loadAfter: os.loadavg()[0].toFixed(2),
    hosts: HOSTS.map((host) => ({
      name: host.name,
      version: libraryVersion(host.name),
      setup: host.setup,
    })),
    date: new Date().toISOString(),
    reps: options.reps,
    calls: options.calls,
    warmup: options.warmup,
    durationMs: Number(process.hrtime.bigint() - startedAt) / 1e6,
  };
  for (const row of rows) {
    process.stdout.write(
      `${row.case.name.padEnd(24)} ${row.host.name.padEnd(8)} direct ${cell(row.direct)}  shim ${cell(row.shim)}  ${ratioCell(row.ratio)}\n`,
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
