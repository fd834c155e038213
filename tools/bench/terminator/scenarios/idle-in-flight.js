'use strict';

// S1 (http) and S3 (https): N idle keep-alive sockets plus M in-flight slow requests on other
// keep-alive sockets when the shutdown starts. Also the "10,000 idle sockets" measurement.

const { openKeepAlive } = require('../clients/raw-http');
const { loadTlsFixture } = require('../lib/tls-fixture');
const common = require('./common');

const COLUMNS = [
  { key: 'dropped', label: 'dropped', unit: 'req' },
  { key: 'resets', label: 'client resets', unit: 'req' },
  { key: 'closeLagMs', label: 'close − last completion', unit: 'ms', ratio: true },
  { key: 'timeToCloseMs', label: 'time to close', unit: 'ms', ratio: true },
  { key: 'connectionCloseShare', label: '`Connection: close` on drain responses', unit: '%' },
  { key: 'idleRst', label: 'idle sockets reset (RST)', unit: 'sockets' },
  { key: 'idleClosedMs', label: 'last idle FIN/RST seen by a client', unit: 'ms', ratio: true },
];

function createIdleInFlightScenario({ id, protocol, title }) {
  return {
    id,
    title,
    protocol,
    columns: COLUMNS,
    describe: (params) =>
      `${params.idle} idle keep-alive sockets + ${params.inFlight} in-flight requests whose handler ` +
      `answers after ${params.slowMs} ms, over ${protocol.toUpperCase()}; grace ${params.graceMs} ms.`,
    async run({ lib, params, startServer }) {
      const server = await startServer({ lib, protocol, graceMs: params.graceMs });
      let connections = [];
      try {
        const tlsOptions = protocol === 'https' ? loadTlsFixture() : null;
        connections = await openKeepAlive(params.idle + params.inFlight, {
          port: server.port,
          tls: tlsOptions,
        });
        const idle = connections.slice(0, params.idle);
        const busy = connections.slice(params.idle);
        const outcomes = busy.map((connection) => connection.get(`/slow?ms=${params.slowMs}`));
        const waited = await server.waitFor({ inFlight: params.inFlight }, 10000);
        if (!waited.reached) throw new Error('the in-flight requests never all reached the server');
        const sentAt = common.now();
        const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
        await common.settleWithin(
          [...outcomes, ...connections.map((connection) => connection.closed)],
          common.SETTLE_MS,
        );
        common.abandon(busy.filter((connection) => connection.pending.length > 0));
        const counts = common.countStatuses(await Promise.all(outcomes));
        return {
          dropped: params.inFlight - counts.complete,
          resets: counts.reset + counts.closed,
          ...common.drainFigures(terminated),
          ...common.idleFigures(idle, sentAt),
        };
      } finally {
        for (const connection of connections) connection.destroy();
        await server.kill();
      }
    },
  };
}

const IDLE_10K_COLUMNS = [
  { key: 'timeToCloseMs', label: 'time to close (server)', unit: 'ms', ratio: true },
  {
    key: 'stallMs',
    label: 'longest event-loop block, terminate() to close',
    unit: 'ms',
    ratio: true,
  },
  { key: 'idleClosedMs', label: 'last FIN/RST seen by a client', unit: 'ms', ratio: true },
  { key: 'idleRst', label: 'sockets reset (RST)', unit: 'sockets' },
  { key: 'idleOpen', label: 'sockets still open', unit: 'sockets' },
];

const idle10k = {
  id: 'S1-10k',
  title: 'time to close 10,000 idle keep-alive sockets',
  protocol: 'http',
  columns: IDLE_10K_COLUMNS,
  baselines: ['destroy-all', 'destroy-batched'],
  describe: (params) =>
    `${params.idle} idle keep-alive sockets (each served one request), nothing in flight; ` +
    `grace ${params.graceMs} ms. Target for lastcall: under 100 ms. The clients run in the ` +
    'benchmark process on the same 2 cores: a library that closes with FIN waits for each ' +
    "client's FIN back before the socket's `close`, so its server time includes the clients' " +
    'own work; one that destroys sockets does not wait.',
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    let connections = [];
    try {
      connections = await openKeepAlive(params.idle, { port: server.port, concurrency: 250 });
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
        libraryReport: drain.libraryReport,
        stallMs: drain.stallMs,
        ...common.idleFigures(connections, sentAt),
      };
    } finally {
      for (const connection of connections) connection.destroy();
      await server.kill();
    }
  },
};

module.exports = {
  IDLE_10K_COLUMNS,
  s1: createIdleInFlightScenario({
    id: 'S1',
    protocol: 'http',
    title: 'idle keep-alive sockets + in-flight slow requests (HTTP)',
  }),
  s3: createIdleInFlightScenario({
    id: 'S3',
    protocol: 'https',
    title: 'idle keep-alive sockets + in-flight slow requests (HTTPS)',
  }),
  idle10k,
};
