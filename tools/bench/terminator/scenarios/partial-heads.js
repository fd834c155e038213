'use strict';

// S9: sockets caught with half a request head when the shutdown starts (the rest of the head
// arrives `restAfterMs` later), and sockets that connected and sent nothing at all.

const { connect, mapLimit } = require('../clients/raw-http');
const common = require('./common');

const FIRST_PART = 'GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n';
const REST = 'User-Agent: lastcall-bench\r\n\r\n';

module.exports = {
  id: 'S9',
  title: 'half-sent request heads and silent sockets',
  protocol: 'http',
  columns: [
    { key: 'dropped', label: 'partial heads not answered', unit: 'req' },
    { key: 'resets', label: 'client resets', unit: 'req' },
    { key: 'connectionCloseShare', label: '`Connection: close` on drain responses', unit: '%' },
    { key: 'silentClosedMs', label: 'last silent socket closed', unit: 'ms', ratio: true },
    { key: 'silentOpen', label: 'silent sockets never closed', unit: 'sockets' },
    { key: 'timeToCloseMs', label: 'time to close', unit: 'ms', ratio: true },
  ],
  describe: (params) =>
    `${params.partial} sockets that sent half a request head before the shutdown and the rest ` +
    `${params.restAfterMs} ms after it + ${params.silent} sockets that connected and sent ` +
    `nothing; grace ${params.graceMs} ms.`,
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    let connections = [];
    try {
      connections = await mapLimit(params.partial + params.silent, 100, () =>
        connect({ port: server.port }),
      );
      const partial = connections.slice(0, params.partial);
      const silent = connections.slice(params.partial);
      const outcomes = partial.map((connection) => {
        const outcome = connection.expectResponse();
        connection.write(FIRST_PART);
        return outcome;
      });
      const waited = await server.waitFor({ connections: connections.length }, 10000);
      if (!waited.reached) throw new Error('the sockets never all reached the server');
      // Let the first half of every head reach the server's parser before the shutdown starts.
      await common.sleep(50);
      const sentAt = common.now();
      const terminating = server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.sleep(params.restAfterMs);
      for (const connection of partial) connection.write(REST);
      const terminated = await terminating;
      await common.settleWithin(
        [...outcomes, ...silent.map((connection) => connection.closed)],
        common.SETTLE_MS,
      );
      common.abandon(partial.filter((connection) => connection.pending.length > 0));
      const counts = common.countStatuses(await Promise.all(outcomes));
      const silentFigures = common.idleFigures(silent, sentAt);
      const drain = common.drainFigures(terminated);
      return {
        dropped: params.partial - counts.complete,
        resets: counts.reset + counts.closed,
        connectionCloseShare: drain.connectionCloseShare,
        silentClosedMs: silentFigures.idleClosedMs,
        silentOpen: silentFigures.idleOpen,
        closed: drain.closed,
        timeToCloseMs: drain.timeToCloseMs,
        libraryReport: drain.libraryReport,
        closeLagMs: drain.closeLagMs,
      };
    } finally {
      for (const connection of connections) connection.destroy();
      await server.kill();
    }
  },
};
