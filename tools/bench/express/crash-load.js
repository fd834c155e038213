#!/usr/bin/env node
'use strict';

// What a keep-alive load sees when one request crashes an Express app run by @lastcall/express:
// how many requests fail, and how (500, 503, reset, refused). A measurement, not a test: it
// prints counts per run and their totals; nothing here asserts. See README.md.
//
//   npm run build && node tools/bench/express/crash-load.js [--runs N] [--express express|express5]

const { spawn } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Pool } = require('undici');

const FIXTURE = path.resolve(__dirname, '../../../packages/express/test/fixtures/app.js');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    express: { type: 'string', default: 'express' },
    connections: { type: 'string', default: '10' },
  },
});

/** Starts the fixture app and resolves with the child and its port. */
function startApp(expressModule) {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      PATH: process.env.PATH,
      EXPRESS_MODULE: expressModule,
      LASTCALL_CRASH_LOG: path.join(require('node:os').tmpdir(), 'lastcall-bench-crash.log'),
      LASTCALL_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the app did not listen within 10 s')), 10_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /"port":(\d+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ child, port: Number(match[1]) });
    });
  });
}

/** One run: a keep-alive load, one crashing request after 400 ms, until the server is gone. */
async function run(expressModule, connections) {
  const { child, port } = await startApp(expressModule);
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections });
  const counts = {
    ok: 0,
    crashed500: 0,
    shed503: 0,
    otherStatus: 0,
    refused: 0,
    reset: 0,
    other: 0,
  };
  const request = async (urlPath) => {
    try {
      const response = await pool.request({ path: urlPath, method: 'GET' });
      await response.body.text();
      if (response.statusCode === 200) counts.ok += 1;
      else if (response.statusCode === 500) counts.crashed500 += 1;
      else if (response.statusCode === 503) counts.shed503 += 1;
      else counts.otherStatus += 1;
      return true;
    } catch (error) {
      if (error.code === 'ECONNREFUSED') counts.refused += 1;
      else if (error.code === 'ECONNRESET' || error.code === 'UND_ERR_SOCKET') counts.reset += 1;
      else counts.other += 1;
      return false;
    }
  };
  const deadline = Date.now() + 15_000;
  const loop = async () => {
    while (Date.now() < deadline && (await request('/slow?ms=5'))) {
      // One request in flight per loop, until the server stops accepting.
    }
  };
  const loops = Array.from({ length: connections }, loop);
  await new Promise((resolve) => setTimeout(resolve, 400));
  await request('/crash/timer');
  await Promise.all(loops);
  await pool.destroy();
  counts.exitCode = await exited;
  return counts;
}

async function main() {
  const runs = Number(values.runs);
  const connections = Number(values.connections);
  const totals = {};
  for (let index = 1; index <= runs; index += 1) {
    const counts = await run(values.express, connections);
    process.stdout.write(`[run ${index}] ${JSON.stringify(counts)}\n`);
    for (const [key, value] of Object.entries(counts)) {
      if (key !== 'exitCode') totals[key] = (totals[key] ?? 0) + value;
    }
  }
  process.stdout.write(`totals over ${runs} runs (${values.express}): ${JSON.stringify(totals)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
