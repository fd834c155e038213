'use strict';
/**
 * The naive cluster master of the bench: the Node docs' example, plus respawn on exit and
 * kill-then-fork on SIGHUP (a "reload"), and SIGTERM kills the workers and exits. It writes its
 * workers' pids to BENCH_PIDS_FILE on every change. Usage: node naive-master.js <app> <workers>
 */
const cluster = require('node:cluster');
const fs = require('node:fs');

const [app, count] = process.argv.slice(2);
const workers = Number(count ?? 2);
cluster.setupPrimary({ exec: app, silent: false });

const bySlot = new Map();
let stopping = false;

function writePids() {
  if (!process.env.BENCH_PIDS_FILE) return;
  const pids = [...bySlot.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, worker]) => worker.process.pid);
  fs.writeFileSync(process.env.BENCH_PIDS_FILE, JSON.stringify(pids));
}

function fork(slot) {
  const worker = cluster.fork({ BENCH_SLOT: String(slot) });
  bySlot.set(slot, worker);
  worker.on('exit', () => {
    if (bySlot.get(slot) === worker) bySlot.delete(slot);
    if (!stopping && !bySlot.has(slot)) fork(slot);
    writePids();
  });
  worker.on('listening', writePids);
}

for (let slot = 0; slot < workers; slot += 1) fork(slot);

process.on('SIGHUP', () => {
  // Kill, then fork: what a hand-written reload does.
  for (const [slot, worker] of [...bySlot]) {
    bySlot.delete(slot);
    worker.kill();
    fork(slot);
  }
});

process.on('SIGTERM', () => {
  stopping = true;
  for (const worker of bySlot.values()) worker.kill();
  cluster.disconnect(() => process.exit(0));
});
