#!/usr/bin/env node
'use strict';

// Server cost per request of Express with @lastcall/express against bare Express, Express 4 and
// 5, in one run, measured two ways:
//
//   cpu           the server's own CPU time (user + system) over an autocannon load window;
//   instructions  instructions the server executes per request, counted by valgrind's callgrind
//                 over a fixed number of requests after a warm-up (instrumentation switched on
//                 with callgrind_control for the window only; node runs --single-threaded so
//                 that V8's background threads do not add their noise). Counts do not depend on
//                 what else the machine is doing, which CPU time on two shared cores does.
//
// Three variants: bare Express; `middleware` (ge.middleware on a plain http server); `lastcall`
// (ge.middleware and ge.listen(), which adds the terminator). Per repetition the variants run in
// a shuffled order, and ratios are taken per repetition against the bare run of that
// repetition. Writes docs/benchmarks/express.md for a run without options. A benchmark, not a
// test: nothing here asserts a speed.
//
//   npm run build && node tools/bench/express/cpu.js [--meter cpu|instructions] [--reps N]
//     [--seconds S] [--requests R] [--connections C] [--out DIR]

const { execFileSync, fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readBenchArgs } = require('../lib/args');
const autocannon = require('autocannon');
const { summarize, shuffle } = require('../terminator/lib/stats');
const { machineLine, writeMarkdownReport } = require('../lib/report');

const USAGE = `usage: node tools/bench/express/cpu.js [options]

  --meter cpu|instructions  one meter only (default: both)
  --reps N                  repetitions (default per meter)
  --seconds S               load window of the cpu meter (default 4)
  --requests R              requests counted by the instructions meter (default 1500)
  --connections C           autocannon connections (default 16)
  --out DIR                 where to write express.md (default docs/benchmarks for a run
                            without options, else a temporary folder)
  --help                    this text`;
const argv = process.argv.slice(2);
const { values } = readBenchArgs(
  USAGE,
  {
    meter: { type: 'string' },
    reps: { type: 'string' },
    seconds: { type: 'string', default: '4' },
    requests: { type: 'string', default: '1500' },
    connections: { type: 'string', default: '16' },
    out: { type: 'string' },
  },
  argv,
);
const METERS = values.meter ? [values.meter] : ['cpu', 'instructions'];
const seconds = Number(values.seconds);
const requestCount = Number(values.requests);
const connections = Number(values.connections);
const REPS = { cpu: Number(values.reps ?? 5), instructions: Number(values.reps ?? 3) };

const EXPRESS = [
  { module: 'express', label: 'Express 4' },
  { module: 'express5', label: 'Express 5' },
];
const VARIANTS = ['bare', 'middleware', 'lastcall'];
const VARIANT_LABELS = {
  bare: 'bare express',
  middleware: 'with `ge.middleware`',
  lastcall: 'with `ge.middleware` and `ge.listen()`',
};

function message(child, cmd) {
  return new Promise((resolve, reject) => {
    const onMessage = (reply) => {
      if (reply.cmd !== cmd) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(reply);
    };
    const onExit = (code) => reject(new Error(`the server exited (${code}) before "${cmd}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function checkLoad(result, what) {
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${what}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ cmd: 'exit' });
  await exited;
}

/** Starts a server variant, loads it for `seconds`, returns server CPU µs per request. */
async function measureCpu(variant, expressModule) {
  const child = fork(path.join(__dirname, 'server.js'), [variant, expressModule], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const { port } = await message(child, 'listening');
    const url = `http://127.0.0.1:${port}/hello`;
    await autocannon({ url, connections, duration: 1 }); // warm-up
    child.send({ cmd: 'start' });
    await message(child, 'started');
    const result = await autocannon({ url, connections, duration: seconds });
    child.send({ cmd: 'stop' });
    const { cpuMicros, requests } = await message(child, 'stopped');
    checkLoad(result, `${variant}/${expressModule}`);
    return { perRequest: cpuMicros / requests, requests };
  } finally {
    await stopServer(child);
  }
}

/** Starts a server variant under callgrind; returns instructions per request of the window. */
async function measureInstructions(variant, expressModule) {
  const outFile = path.join(os.tmpdir(), `lastcall-callgrind-${process.pid}-${Date.now()}.out`);
  const child = fork(path.join(__dirname, 'server.js'), [variant, expressModule], {
    execPath: 'valgrind',
    execArgv: [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${outFile}`,
      '-q',
      process.execPath,
      '--single-threaded',
    ],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const control = (...args) =>
    execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  try {
    const { port } = await message(child, 'listening');
    const url = `http://127.0.0.1:${port}/hello`;
    checkLoad(await autocannon({ url, connections, amount: 4 * requestCount }), 'warm-up');
    control('--instr=on');
    const result = await autocannon({ url, connections, amount: requestCount });
    control('--instr=off');
    control('--dump');
    checkLoad(result, `${variant}/${expressModule}`);
  } finally {
    await stopServer(child);
  }
  // callgrind writes one file per dump (and one at exit, with nothing counted: instrumentation
  // was off), named outFile, outFile.1, ...
  const dir = path.dirname(outFile);
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(path.basename(outFile))) continue;
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    total += Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0);
    fs.unlinkSync(path.join(dir, name));
  }
  if (total === 0) throw new Error(`${variant}/${expressModule}: callgrind counted nothing`);
  return { perRequest: total / requestCount, requests: requestCount };
}

const METER = {
  cpu: {
    measure: measureCpu,
    unit: 'µs/request',
    digits: 1,
    title: 'server CPU time per request',
    describe: (reps) =>
      `Each variant is a fresh server process answering \`GET /hello\` with \`res.send('hello')\`, loaded by autocannon (${connections} keep-alive connections, ${seconds} s after a 1 s warm-up, client in this process). The server measures its own CPU time (user + system) over the load window; cells are µs of server CPU per request, **median [min–max]** over ${reps} repetitions.`,
  },
  instructions: {
    measure: measureInstructions,
    unit: 'instructions/request',
    digits: 0,
    title: 'instructions per request',
    describe: (reps) =>
      `Each variant is a fresh server process under valgrind's callgrind (\`node --single-threaded\`, so that V8's compiler and GC threads run on the main thread and the count repeats), answering \`GET /hello\`. autocannon sends ${4 * requestCount} requests as a warm-up with instrumentation off, then \`callgrind_control --instr=on\`, exactly ${requestCount} requests (${connections} keep-alive connections), \`--instr=off\` and a dump. Cells are instructions the server executed per request in that window, **median [min–max]** over ${reps} repetitions. Instruction counts do not depend on the other load on the machine.`,
  },
};

function cell({ median, min, max }, digits) {
  return `${median.toFixed(digits)} [${min.toFixed(digits)}–${max.toFixed(digits)}]`;
}

function hasValgrind() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs one meter over every repetition; returns its markdown section. */
async function runMeter(meterName) {
  const meter = METER[meterName];
  const reps = REPS[meterName];
  const samples = new Map();
  const ratios = new Map();
  for (let rep = 1; rep <= reps; rep += 1) {
    for (const entry of shuffle(EXPRESS, rep)) {
      const perVariant = {};
      for (const variant of shuffle(VARIANTS, rep * 7 + entry.module.length)) {
        const { perRequest, requests } = await meter.measure(variant, entry.module);
        perVariant[variant] = perRequest;
        const key = `${entry.module}/${variant}`;
        samples.set(key, [...(samples.get(key) ?? []), perRequest]);
        process.stdout.write(
          `[${meterName} rep ${rep}] ${entry.label} ${variant.padEnd(10)} ${perRequest.toFixed(meter.digits)} ${meter.unit} (${requests} requests)\n`,
        );
      }
      for (const variant of VARIANTS.slice(1)) {
        const key = `${entry.module}/${variant}`;
        ratios.set(key, [...(ratios.get(key) ?? []), perVariant[variant] / perVariant.bare]);
      }
    }
  }
  const lines = [
    `## ${meter.title}`,
    '',
    meter.describe(reps),
    '',
    `| express | ${VARIANTS.map((variant) => `${VARIANT_LABELS[variant]} (${meter.unit})`).join(' | ')} | ${VARIANTS.slice(
      1,
    )
      .map((variant) => `${variant} / bare`)
      .join(' | ')} |`,
    `| --- | ${VARIANTS.map(() => '---').join(' | ')} | ${VARIANTS.slice(1)
      .map(() => '---')
      .join(' | ')} |`,
  ];
  for (const entry of EXPRESS) {
    const cells = VARIANTS.map((variant) =>
      cell(summarize(samples.get(`${entry.module}/${variant}`)), meter.digits),
    );
    const ratioCells = VARIANTS.slice(1).map(
      (variant) => `×${cell(summarize(ratios.get(`${entry.module}/${variant}`)), 3)}`,
    );
    lines.push(`| ${entry.label} | ${[...cells, ...ratioCells].join(' | ')} |`);
    process.stdout.write(`${meterName} ${entry.label}: ${[...cells, ...ratioCells].join('  ')}\n`);
  }
  return lines;
}

async function main() {
  const startedAt = Date.now();
  const sections = [];
  for (const meterName of METERS) {
    if (!(meterName in METER)) throw new Error(`--meter: cpu or instructions, not ${meterName}`);
    if (meterName === 'instructions' && !hasValgrind()) {
      process.stderr.write('valgrind not found (Debian package valgrind); skipping instructions\n');
      continue;
    }
    sections.push(...(await runMeter(meterName)), '');
  }
  const lines = [
    '# @lastcall/express — server cost per request',
    '',
    'Generated by `tools/bench/express/cpu.js`; do not edit by hand.',
    '',
    'Per repetition the Express versions and, within each, the variants run in a shuffled order; a ratio is computed per repetition against the bare run of the same repetition, then summarised the same way.',
    '',
    `- Command: \`node tools/bench/express/cpu.js${argv.length ? ` ${argv.join(' ')}` : ''}\``,
    `- ${machineLine()}`,
    `- Date: ${new Date().toISOString()}; total ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    '',
    ...sections,
    "The middleware's per-request work: one read of graceful's state, one object for the request's context and one `AsyncLocalStorage.run()`. No timer, interval or listener is added per request. `ge.listen()` adds the terminator, which tracks each socket and each request in flight so that it can drain them.",
    '',
  ];
  const file = await writeMarkdownReport({
    lines,
    fileName: 'express.md',
    argv,
    out: values.out,
    tmpName: 'lastcall-bench-express',
  });
  process.stdout.write(`wrote ${file}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
