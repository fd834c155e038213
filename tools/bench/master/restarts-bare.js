'use strict';

// The reference of restarts.js: a bare node:cluster primary (nothing but node:cluster) with one
// worker (hello-server.js), doing the same rolling restarts as the lastcall master: fork the
// replacement, wait until it listens, kill the old worker, wait for its exit. Prints one JSON
// line `{ done, rssMiB, heapMiB }` (after a GC) every EVERY restarts, then `{ end: true }`.
// Run by restarts.js as a child process beside it: `node --expose-gc restarts-bare.js`, with
// PORT, RESTARTS and EVERY in the environment.

const cluster = require('node:cluster');
const path = require('node:path');

const restarts = Number(process.env.RESTARTS);
const every = Number(process.env.EVERY);

function sample(done) {
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ done, rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20 })}\n`,
  );
}

function forkListening() {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork({ PORT: process.env.PORT });
    worker.once('listening', () => resolve(worker));
    worker.once('exit', (code) => reject(new Error(`the worker exited with ${code} at start`)));
  });
}

async function main() {
  cluster.setupPrimary({ exec: path.join(__dirname, 'hello-server.js') });
  let current = await forkListening();
  sample(0);
  for (let index = 1; index <= restarts; index += 1) {
    const fresh = await forkListening();
    const old = current;
    current = fresh;
    await new Promise((resolve) => {
      old.once('exit', resolve);
      old.kill();
    });
    if (index % every === 0) sample(index);
  }
  current.removeAllListeners('exit');
  current.kill();
  process.stdout.write(`${JSON.stringify({ end: true })}\n`);
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
