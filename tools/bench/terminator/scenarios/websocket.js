'use strict';

// S8: WebSocket (`ws`) clients connected at shutdown. lastcall gets an `onUpgrade` hook that
// sends close 1001 (Going Away); the peers have no such hook and run as they are.

const { openWebSocket } = require('../clients/websocket');
const { mapLimit } = require('../clients/raw-http');
const common = require('./common');

module.exports = {
  id: 'S8',
  title: 'WebSocket clients connected',
  protocol: 'http',
  columns: [
    { key: 'closeCodes', label: 'close codes seen by clients', unit: 'codes', kind: 'codes' },
    { key: 'cleanCloses', label: 'closed with 1000/1001', unit: 'clients' },
    { key: 'lastClientClosedMs', label: 'last client closed', unit: 'ms', ratio: true },
    { key: 'timeToCloseMs', label: 'time to close (server)', unit: 'ms', ratio: true },
  ],
  describe: (params) =>
    `${params.clients} \`ws\` clients connected (one echo done), no message in flight; ` +
    `grace ${params.graceMs} ms. lastcall runs with \`onUpgrade\` sending close 1001. Clients ` +
    'still open when the harness gives up (grace + 2 s) are counted as `open`.',
  async run({ lib, params, startServer }) {
    const server = await startServer({
      lib,
      protocol: 'http',
      graceMs: params.graceMs,
      webSocket: true,
    });
    let clients = [];
    try {
      clients = await mapLimit(params.clients, 50, () => openWebSocket(server.port));
      const sentAt = common.now();
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.settleWithin(
        clients.map((record) => record.closed),
        common.SETTLE_MS,
      );
      const closeCodes = {};
      for (const record of clients) {
        const key = record.code === null ? 'open' : String(record.code);
        closeCodes[key] = (closeCodes[key] || 0) + 1;
      }
      const isAllClosed = clients.every((record) => record.closedAt !== null);
      const drain = common.drainFigures(terminated);
      return {
        closeCodes,
        cleanCloses: clients.filter((record) => record.code === 1000 || record.code === 1001)
          .length,
        lastClientClosedMs: isAllClosed
          ? Math.max(...clients.map((record) => record.closedAt)) - sentAt
          : null,
        closed: drain.closed,
        timeToCloseMs: drain.timeToCloseMs,
        libraryReport: drain.libraryReport,
      };
    } finally {
      for (const record of clients) record.ws.terminate();
      await server.kill();
    }
  },
};
