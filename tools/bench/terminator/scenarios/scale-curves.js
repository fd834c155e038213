'use strict';

// SC-1k … SC-50k: the scale curves. N idle keep-alive sockets (each served one request), nothing
// in flight: time to close, the longest event-loop block and the heap each connection costs, for
// N from 1,000 to 50,000. The heap is read after two full collections (the child runs with
// --expose-gc) before and after the sockets are opened; the bare server (no library) gives the
// cost of the socket itself, so a library's tracked memory is its figure minus the bare one.

const { execFileSync } = require('node:child_process');
const { openKeepAlive } = require('../clients/raw-http');
const common = require('./common');
const { IDLE_10K_COLUMNS } = require('./idle-in-flight');

const COUNTS = [1000, 5000, 10000, 25000, 50000];

/** The libraries drawn on the curves; the bare server is added as the memory baseline. */
const CURVE_LIBRARIES = ['lastcall', 'http-terminator', 'stoppable', 'node-core'];

/** Sockets per client source address: 127.0.0.1 alone has ~28k ephemeral ports by default. */
const SOCKETS_PER_SOURCE = 20000;

/** The server's keep-alive timeout, in ms: no socket may time out while the others open. */
const KEEP_ALIVE_TIMEOUT = 120000;

/** File descriptors a run needs beyond its sockets (listener, IPC, stdio, node's own). */
const FD_SLACK = 200;

/** S1-10k's columns, with the heap per connection before the socket counts. */
const COLUMNS = [
  ...IDLE_10K_COLUMNS.filter((column) => !['idleRst', 'idleOpen'].includes(column.key)),
  { key: 'heapPerConnection', label: 'heap per connection', unit: 'B' },
  ...IDLE_10K_COLUMNS.filter((column) => ['idleRst', 'idleOpen'].includes(column.key)),
];

let openFileLimit;

/** The soft RLIMIT_NOFILE this process (and so each forked child) runs with. */
function readOpenFileLimit() {
  if (openFileLimit === undefined) {
    try {
      openFileLimit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }));
    } catch {
      openFileLimit = NaN;
    }
    if (!Number.isFinite(openFileLimit)) openFileLimit = Infinity;
  }
  return openFileLimit;
}

function label(count) {
  return `${count / 1000}k`;
}

function createScaleScenario(count) {
  return {
    id: `SC-${label(count)}`,
    title: `scale curve: ${count.toLocaleString('en-US')} idle keep-alive sockets`,
    protocol: 'http',
    columns: COLUMNS,
    includesBare: true,
    baselines: ['destroy-all', 'destroy-batched'],
    libraries: CURVE_LIBRARIES,
    isScaleCurve: true,
    count,
    describe: (params) =>
      `${params.idle} idle keep-alive sockets (each served one request), nothing in flight; ` +
      `grace ${params.graceMs} ms; at most ${params.reps} repetitions.`,
    /** null when this machine can hold `count` sockets at both ends, else why not. */
    unavailableReason() {
      const limit = readOpenFileLimit();
      if (count + FD_SLACK <= limit) return null;
      return (
        `needs ${count + FD_SLACK} file descriptors per process; this machine allows ${limit} ` +
        '(`ulimit -n`; raise the hard limit, which needs CAP_SYS_RESOURCE, to measure it)'
      );
    },
    async run({ lib, params, startServer }) {
      const server = await startServer({
        lib,
        protocol: 'http',
        graceMs: params.graceMs,
        exposeGc: true,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
      });
      let connections = [];
      try {
        const heapBefore = await server.heapUsed();
        connections = await openKeepAlive(params.idle, {
          port: server.port,
          concurrency: 250,
          localAddressOf: (index) => `127.0.0.${1 + Math.floor(index / SOCKETS_PER_SOURCE)}`,
        });
        const heapAfter = await server.heapUsed();
        const sentAt = common.now();
        const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
        await common.settleWithin(
          connections.map((connection) => connection.closed),
          common.SETTLE_MS,
        );
        const drain = common.drainFigures(terminated);
        return {
          closed: drain.closed,
          timeToCloseMs: drain.timeToCloseMs,
          stallMs: drain.stallMs,
          heapPerConnection: (heapAfter - heapBefore) / params.idle,
          ...common.idleFigures(connections, sentAt),
        };
      } finally {
        for (const connection of connections) connection.destroy();
        await server.kill();
      }
    },
  };
}

const SCALE_SCENARIOS = COUNTS.map(createScaleScenario);

/**
 * Per-scenario parameters. `reps` caps the repetitions of a point, which keeps the full run
 * short: 3 (2 from 25k sockets on) in a default run, 1 in a quick one.
 */
function scaleParams(mode, graceMs) {
  const params = {};
  for (const scenario of SCALE_SCENARIOS) {
    const reps = mode === 'quick' ? 1 : scenario.count >= 25000 ? 2 : 3;
    params[scenario.id] = { idle: scenario.count, graceMs, reps };
  }
  return params;
}

module.exports = { SCALE_SCENARIOS, CURVE_LIBRARIES, scaleParams };
