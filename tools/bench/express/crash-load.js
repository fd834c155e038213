#!/usr/bin/env node
'use strict';

// What a keep-alive load sees when requests crash an Express app run by @lastcall/express: how
// many requests fail, and how (the crash's 500, a 503, a reset, refused). Two setups:
//
//   single   one process (packages/express/test/fixtures/app.js); one crash, then it exits.
//   cluster  two workers of that app behind a plain node:cluster primary that forks a
//            replacement when a worker says it is draining (test/fixtures/cluster.js);
//            three crashes, one after another, while the load goes on.
//
// The load: undici's keep-alive Pool, 10 connections, one request in flight on each. A
// measurement, not a test: it prints counts per run and writes docs/benchmarks/express-crash.md
// for a run without options. See README.md.
//
//   npm run build && node tools/bench/express/crash-load.js [--runs N] [--setup single|cluster]
//     [--express express|express5] [--out DIR]

const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { readBenchArgs } = require('../lib/args');
const { Client, Pool } = require('undici');
const { summarize } = require('../terminator/lib/stats');
const { REPO_ROOT, machineLine, writeMarkdownReport } = require('../lib/report');

const FIXTURES = path.join(REPO_ROOT, 'packages/express/test/fixtures');
const USAGE = `usage: node tools/bench/express/crash-load.js [options]

  --runs N                      runs per setup and Express (default 5)
  --setup single|cluster        one setup only (default: both)
  --express express|express5    one Express only (default: both)
  --connections C               keep-alive connections of the load (default 10)
  --out DIR                     where to write express-crash.md (default docs/benchmarks for a
                                run without options, else a temporary folder)
  --help                        this text`;
const argv = process.argv.slice(2);
const { values } = readBenchArgs(
  USAGE,
  {
    runs: { type: 'string', default: '5' },
    setup: { type: 'string' },
    express: { type: 'string' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string' },
  },
  argv,
);
const RUNS = Number(values.runs);
const CONNECTIONS = Number(values.connections);
const SETUPS = values.setup ? [values.setup] : ['single', 'cluster'];
const EXPRESS = values.express ? [values.express] : ['express', 'express5'];
const CLUSTER_CRASHES = 3;
const LABELS = { express: 'Express 4', express5: 'Express 5' };

/** Starts a fixture; resolves with the child, its port and a way to wait for its lines. */
function start(setup, expressModule) {
  const fixture = path.join(FIXTURES, setup === 'cluster' ? 'cluster.js' : 'app.js');
  const child = spawn(process.execPath, [fixture], {
    env: {
      PATH: process.env.PATH,
      EXPRESS_MODULE: expressModule,
      GRACEFUL_FIXTURE: JSON.stringify({ workers: 2 }),
      LASTCALL_CRASH_LOG: path.join(os.tmpdir(), 'lastcall-bench-crash.log'),
      LASTCALL_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const events = [];
  let partial = '';
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line));
  });
  const count = (name) => events.filter((event) => event.event === name).length;
  const waitFor = async (name, n, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (count(name) < n) {
      if (Date.now() > deadline) throw new Error(`${setup}: no ${n} × "${name}" within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = setup === 'cluster' ? 'ready' : 'listening';
  return waitFor(ready, 1).then(() => ({
    child,
    exited,
    waitFor,
    port: events.find((event) => event.event === ready).port,
  }));
}

/** One run: the load, the crashes, then the counts. */
async function run(setup, expressModule) {
  const app = await start(setup, expressModule);
  const origin = `http://127.0.0.1:${app.port}`;
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const counts = {
    ok: 0,
    crashed500: 0,
    shed503: 0,
    otherStatus: 0,
    reset: 0,
    refused: 0,
    other: 0,
  };
  const tally = (statusCode) => {
    if (statusCode === 200) counts.ok += 1;
    else if (statusCode === 503) counts.shed503 += 1;
    else counts.otherStatus += 1;
  };
  const tallyError = (error) => {
    if (error.code === 'ECONNREFUSED') counts.refused += 1;
    else if (error.code === 'ECONNRESET' || error.code === 'UND_ERR_SOCKET') counts.reset += 1;
    else counts.other += 1;
  };
  let isLoading = true;
  const deadline = Date.now() + 30_000;
  const loop = async () => {
    while (isLoading && Date.now() < deadline) {
      try {
        const response = await pool.request({ path: '/slow?ms=5', method: 'GET' });
        await response.body.text();
        tally(response.statusCode);
      } catch (error) {
        tallyError(error);
        // A single process is gone once it refuses: the load ends with it.
        if (setup === 'single') return;
      }
    }
  };
  const crash = async () => {
    const client = new Client(origin);
    try {
      const response = await client.request({ path: '/crash/timer', method: 'GET' });
      await response.body.text();
      if (response.statusCode === 500) counts.crashed500 += 1;
      else tally(response.statusCode);
    } catch (error) {
      tallyError(error);
    } finally {
      await client.close();
    }
  };
  const loops = Array.from({ length: CONNECTIONS }, loop);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 400));
  await pause();
  if (setup === 'single') {
    await crash();
  } else {
    for (let index = 0; index < CLUSTER_CRASHES; index += 1) {
      await crash();
      await app.waitFor('listening', 2 + index + 1); // the replacement
      await app.waitFor('worker-exit', index + 1); // the crashed worker, drained
      await pause();
    }
    isLoading = false;
  }
  await Promise.all(loops);
  await pool.destroy();
  if (setup === 'cluster') app.child.kill('SIGTERM');
  counts.exitCode = await app.exited;
  return counts;
}

function cell({ median, min, max }) {
  return `${median} [${min}–${max}]`;
}

async function main() {
  const startedAt = Date.now();
  const results = new Map();
  for (let index = 1; index <= RUNS; index += 1) {
    for (const setup of SETUPS) {
      for (const expressModule of EXPRESS) {
        const counts = await run(setup, expressModule);
        const key = `${setup}/${expressModule}`;
        results.set(key, [...(results.get(key) ?? []), counts]);
        process.stdout.write(`[run ${index}] ${key} ${JSON.stringify(counts)}\n`);
      }
    }
  }
  const sum = (records, field) => records.reduce((total, record) => total + record[field], 0);
  const lines = [
    '# @lastcall/express — what a keep-alive load loses when requests crash the app',
    '',
    'Generated by `tools/bench/express/crash-load.js`; do not edit by hand.',
    '',
    `The load is undici's keep-alive Pool, ${CONNECTIONS} connections, one \`GET /slow?ms=5\` in flight on each. **single**: one process of \`packages/express/test/fixtures/app.js\`; after 400 ms one request crashes it (a throw in a timer), and the load runs until the process is gone. **cluster**: two workers of that app behind a plain \`node:cluster\` primary that forks a replacement when a worker says it is draining (\`test/fixtures/cluster.js\`); ${CLUSTER_CRASHES} crashes, each once the previous replacement listens and the crashed worker has exited, while the load goes on. ${RUNS} runs of each; "answered" is the median [min–max] per run, the other columns are totals over all runs.`,
    '',
    `- Command: \`node tools/bench/express/crash-load.js${argv.length ? ` ${argv.join(' ')}` : ''}\``,
    `- ${machineLine()}`,
    `- Date: ${new Date().toISOString()}; total ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
    '',
    '| setup | express | answered 200 | crashes (500) | 503 | reset | refused | other |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const setup of SETUPS) {
    for (const expressModule of EXPRESS) {
      const records = results.get(`${setup}/${expressModule}`);
      lines.push(
        `| ${setup} | ${LABELS[expressModule] ?? expressModule} | ${cell(summarize(records.map((record) => record.ok)))} | ${sum(records, 'crashed500')} | ${sum(records, 'shed503')} | ${sum(records, 'reset')} | ${sum(records, 'refused')} | ${sum(records, 'other') + sum(records, 'otherStatus')} |`,
      );
    }
  }
  lines.push(
    '',
    "A **refused** request in the single setup is the load meeting the closed listener of a process that is gone; in a real deployment a load balancer or the cluster master sends it elsewhere, which is what the cluster setup shows. A **reset** in the single setup is a new connection still in the kernel's accept queue when the listener closed, or a request that crossed the FIN of an idle socket the drain closed.",
    '',
  );
  const file = await writeMarkdownReport({
    lines,
    fileName: 'express-crash.md',
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
