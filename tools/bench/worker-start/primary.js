'use strict';
// One measurement, in a fresh process: this process is the cluster primary of one variant,
// forks one worker of app.js (probe-app.js when $WORKER_START_PROBE is set), and prints one JSON
// line: the ms from just before cluster.fork() to the worker's 'listening' event here, the CPU
// time the worker had used by then, what the worker itself measured (ms from its process start
// to its listen, CPU by then), and its VmRSS after it idled --idle ms. Started by run.js; not meant to be run by hand.
//
//   node primary.js <bare|empty-preload|runtime|runtime-baseline|master> <idle ms>
//
// runtime-baseline: the worker runtime of the checkout in $WORKER_START_BASELINE (built).

const cluster = require('node:cluster');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');
const [variant, idleArg] = process.argv.slice(2);
const idle = Number(idleArg);
const app = path.join(__dirname, process.env.WORKER_START_PROBE ? 'probe-app.js' : 'app.js');

/** The environment @lastcall/master gives a worker with its default options (primary/fork.ts). */
function runtimeEnv() {
  const protocol = require(path.join(ROOT, 'packages/master/dist/protocol.js'));
  return {
    [protocol.MASTER_ENV]: '1',
    [protocol.SLOT_ENV]: '0',
    [protocol.DRAIN_TIMEOUT_ENV]: '30000',
    [protocol.IDLE_TIMEOUT_ENV]: '0',
    [protocol.KEEP_ALIVE_TIMEOUT_ENV]: '0',
    [protocol.HEADERS_TIMEOUT_ENV]: '0',
  };
}

const PRELOADS = {
  bare: [],
  'empty-preload': ['--require', path.join(__dirname, 'empty-preload.js')],
  runtime: ['--require', path.join(ROOT, 'packages/master/dist/worker/runtime.js')],
  'runtime-baseline': [
    '--require',
    path.join(process.env.WORKER_START_BASELINE ?? ROOT, 'packages/master/dist/worker/runtime.js'),
  ],
};

/** VmRSS, and its anonymous (private) and file-backed parts, in KiB. */
function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (match === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssKiB: field('VmRSS'), rssAnonKiB: field('RssAnon'), rssFileKiB: field('RssFile') };
}

/**
 * CPU ms the worker has run so far, from the scheduler (/proc/<pid>/task/<tid>/schedstat, ns):
 * its main thread, and all its threads. Unlike wall time, little moved by a busy machine.
 */
function cpuMs(pid) {
  const ranNs = (tid) =>
    Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  let all = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      all += ranNs(tid);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return { mainThreadCpuMs: ranNs(String(pid)) / 1e6, allThreadsCpuMs: all / 1e6 };
}

function fail(message) {
  process.stderr.write(`primary.js ${variant}: ${message}\n`);
  process.exit(1);
}

setTimeout(() => fail('the worker did not listen within 20 s'), 20_000).unref();

let forkedAt;
let stop = () => undefined;

let listened;
let workerSaw;
/** Once both the primary saw the worker listen and the worker said when it did: idle, then RSS. */
function whenBothKnown() {
  if (listened === undefined || workerSaw === undefined) return;
  const { worker, forkToListenMs, cpu } = listened;
  setTimeout(() => {
    const rss = rssKiB(worker.process.pid);
    const line = { variant, forkToListenMs, ...workerSaw, ...cpu, ...rss };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    stop(worker);
  }, idle);
}

cluster.once('listening', (worker) => {
  const forkToListenMs = Number(process.hrtime.bigint() - forkedAt) / 1e6;
  listened = { worker, forkToListenMs, cpu: cpuMs(worker.process.pid) };
  whenBothKnown();
});
cluster.on('message', (_worker, message) => {
  if (message === null || typeof message !== 'object' || !('workerStart' in message)) return;
  workerSaw = message.workerStart;
  whenBothKnown();
});

if (variant === 'master') {
  // The real thing: @lastcall/master with one worker and its defaults (setsid, the worker
  // runtime, its environment). Loaded before the clock starts; only the fork is timed.
  const { Master } = require('@lastcall/master');
  const fork = cluster.fork;
  cluster.fork = function timedFork(...args) {
    forkedAt = process.hrtime.bigint();
    return fork.apply(this, args);
  };
  const quiet = () => undefined;
  const logger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error };
  logger.fatal = console.error;
  logger.child = () => logger;
  const master = new Master({ exec: app, workers: 1, logger });
  stop = () => {
    master.stop({ force: true }).then(
      () => process.exit(0),
      (error) => fail(error.message),
    );
  };
  master.start().catch((error) => fail(error.message));
} else if (variant in PRELOADS) {
  const env = variant.startsWith('runtime') ? runtimeEnv() : {};
  // silent as @lastcall/master forks: the worker's stdout and stderr are pipes in every variant.
  cluster.setupPrimary({ exec: app, silent: true, execArgv: PRELOADS[variant] });
  stop = (worker) => {
    worker.process.kill('SIGKILL');
    process.exit(0);
  };
  forkedAt = process.hrtime.bigint();
  cluster.fork(env);
} else {
  fail(`unknown variant ${variant}`);
}
