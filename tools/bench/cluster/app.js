'use strict';
/**
 * The one app every manager runs in tools/bench/cluster: a plain `http` server on PORT
 * (127.0.0.1) that knows nothing of any manager.
 *
 *   GET /          its pid
 *   GET /slow?ms=  its pid, after ms milliseconds
 *
 * BENCH_MODE_FILE (a path) holds the build it boots, read at start:
 *   good           serve
 *   broken         a bad build: one line on stderr, exit 1 at once
 *   crash-loop:<slot>  the worker of that slot throws 100 ms after it starts; others serve
 *   leak:<kib>     every request keeps <kib> KiB for good (memory recycling)
 *
 * SIGWINCH makes it throw in a timer: the crash injected into a chosen worker's pid.
 * BENCH_PM2_BEST=1 is the app pm2's documentation asks for: it says `process.send('ready')` once
 * listening (for --wait-ready), and closes its server on SIGINT before it exits.
 */
const fs = require('node:fs');
const http = require('node:http');

const mode = process.env.BENCH_MODE_FILE
  ? fs.readFileSync(process.env.BENCH_MODE_FILE, 'utf8').trim()
  : 'good';
// The slot, as each manager tells it: pm2, lastcall, the naive cluster of this bench.
const slot = Number(
  process.env.NODE_APP_INSTANCE ?? process.env.LASTCALL_WORKER_SLOT ?? process.env.BENCH_SLOT ?? 0,
);

if (mode === 'broken') {
  process.stderr.write(`pid ${process.pid}: Error: Cannot find module './not-in-this-build'\n`);
  process.exit(1);
}
if (mode === `crash-loop:${slot}`) {
  setTimeout(() => {
    throw new Error(`slot ${slot} crashes at start (crash-loop)`);
  }, 100);
}
const leakKiB = mode.startsWith('leak:') ? Number(mode.slice('leak:'.length)) : 0;
const kept = [];

const server = http.createServer((request, response) => {
  // Capped at 1 GiB kept, so that a manager that never recycles cannot take the machine.
  if (leakKiB > 0 && kept.length * leakKiB < 1 << 20) kept.push(Buffer.alloc(leakKiB * 1024, 1));
  const url = new URL(request.url, 'http://x');
  if (url.pathname === '/slow') {
    setTimeout(() => response.end(String(process.pid)), Number(url.searchParams.get('ms') ?? 1000));
    return;
  }
  response.end(String(process.pid));
});

process.on('SIGWINCH', () => {
  setTimeout(() => {
    throw new Error('injected crash (SIGWINCH)');
  }, 0);
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  if (process.env.BENCH_PM2_BEST === '1' && typeof process.send === 'function')
    process.send('ready');
});

if (process.env.BENCH_PM2_BEST === '1') {
  process.on('SIGINT', () => {
    server.close(() => process.exit(0));
  });
}
