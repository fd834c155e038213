'use strict';

// S5: pipelined requests in flight at shutdown. Two clients, because they fail differently:
// - undici Clients with `pipelining` (and `blocking: false`, without which undici waits for each
//   GET's response headers before writing the next one): what an application sees. undici fails only the head of a
//   pipeline when its socket closes and silently re-sends the rest on a new connection, so a
//   dropped pipelined request shows up as that retry's error (ECONNREFUSED once the listener is
//   closed) or not at all (if the retry succeeds); `undici reconnects` counts those retries.
// - raw sockets writing all requests in one write: exact per-request bytes, no retries.

const { Client } = require('undici');
const { connect, mapLimit } = require('../clients/raw-http');
const common = require('./common');

function classifyUndiciError(error) {
  const code = (error && error.code) || 'ERROR';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  return 'other';
}

module.exports = {
  id: 'S5',
  title: 'pipelined requests in flight',
  protocol: 'http',
  columns: [
    { key: 'dropped', label: 'dropped (undici + raw)', unit: 'req' },
    { key: 'resets', label: 'client resets', unit: 'req' },
    { key: 'undiciDropped', label: 'undici: failed', unit: 'req' },
    { key: 'undiciReconnects', label: 'undici: reconnects (re-sent)', unit: 'conn' },
    { key: 'rawDropped', label: 'raw: unanswered', unit: 'req' },
    { key: 'closeLagMs', label: 'close − last completion', unit: 'ms', ratio: true },
    { key: 'connectionCloseShare', label: '`Connection: close` on drain responses', unit: '%' },
  ],
  describe: (params) =>
    `${params.undiciClients} undici Clients (pipelining ${params.depth}) and ` +
    `${params.rawConnections} raw sockets, each with ${params.depth} pipelined GETs answered ` +
    `after ${params.slowMs} ms, all received by the server before the shutdown; ` +
    `grace ${params.graceMs} ms.`,
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    const clients = [];
    let rawConnections = [];
    try {
      let connects = 0;
      const undiciStatuses = [];
      const undiciOutcomes = [];
      for (let index = 0; index < params.undiciClients; index += 1) {
        const client = new Client(server.origin, {
          pipelining: params.depth,
          headersTimeout: params.graceMs + 5000,
          bodyTimeout: params.graceMs + 5000,
        });
        client.on('connect', () => {
          connects += 1;
        });
        clients.push(client);
        for (let request = 0; request < params.depth; request += 1) {
          const slot = undiciStatuses.push('timeout') - 1;
          undiciOutcomes.push(
            client
              .request({ path: `/slow?ms=${params.slowMs}`, method: 'GET', blocking: false })
              .then(async ({ statusCode, body }) => {
                await body.dump();
                return statusCode === 200 ? 'complete' : 'non2xx';
              })
              .catch(classifyUndiciError)
              .then((status) => {
                undiciStatuses[slot] = status;
              }),
          );
        }
      }
      rawConnections = await mapLimit(params.rawConnections, 50, () =>
        connect({ port: server.port }),
      );
      const paths = Array.from({ length: params.depth }, () => `/slow?ms=${params.slowMs}`);
      const rawOutcomes = rawConnections.flatMap((connection) => connection.pipeline(paths));
      const total = (params.undiciClients + params.rawConnections) * params.depth;
      const waited = await server.waitFor({ requests: total }, 10000);
      if (!waited.reached)
        throw new Error(`only ${waited.counters.requests}/${total} requests arrived`);
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.settleWithin([...undiciOutcomes, ...rawOutcomes], common.SETTLE_MS);
      common.abandon(rawConnections.filter((connection) => connection.pending.length > 0));
      const rawCounts = common.countStatuses(await Promise.all(rawOutcomes));
      const undiciFailed = undiciStatuses.filter((status) => status !== 'complete').length;
      const undiciResets = undiciStatuses.filter((status) => status === 'reset').length;
      const rawDropped = params.rawConnections * params.depth - rawCounts.complete;
      return {
        dropped: undiciFailed + rawDropped,
        resets: undiciResets + rawCounts.reset + rawCounts.closed,
        undiciDropped: undiciFailed,
        undiciReconnects: Math.max(0, connects - params.undiciClients),
        rawDropped,
        ...common.drainFigures(terminated),
      };
    } finally {
      for (const connection of rawConnections) connection.destroy();
      await Promise.all(clients.map((client) => client.destroy().catch(() => {})));
      await server.kill();
    }
  },
};
