'use strict';

// S6: requests that are never answered, next to a few slow ones and idle sockets, with a short
// grace: the close must happen at the deadline (not before, not long after), and the slow
// requests that do finish inside the grace must not be lost.

const { openKeepAlive } = require('../clients/raw-http');
const common = require('./common');

module.exports = {
  id: 'S6',
  title: 'hanging requests, deadline honoured',
  protocol: 'http',
  columns: [
    { key: 'dropped', label: 'slow requests dropped', unit: 'req' },
    { key: 'closeMinusDeadlineMs', label: 'close − deadline', unit: 'ms' },
    { key: 'hangingOpen', label: 'hanging sockets still open after close', unit: 'sockets' },
    { key: 'idleRst', label: 'idle sockets reset (RST)', unit: 'sockets' },
  ],
  describe: (params) =>
    `${params.hanging} requests that are never answered + ${params.slow} requests answered after ` +
    `${params.slowMs} ms + ${params.idle} idle keep-alive sockets; grace ${params.graceMs} ms. ` +
    'The hanging requests are expected to be cut at the deadline; they are not counted as drops.',
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    let connections = [];
    try {
      connections = await openKeepAlive(params.hanging + params.slow + params.idle, {
        port: server.port,
      });
      const hanging = connections.slice(0, params.hanging);
      const slow = connections.slice(params.hanging, params.hanging + params.slow);
      const idle = connections.slice(params.hanging + params.slow);
      for (const connection of hanging) connection.get('/hang');
      const outcomes = slow.map((connection) => connection.get(`/slow?ms=${params.slowMs}`));
      const waited = await server.waitFor({ inFlight: params.hanging + params.slow }, 10000);
      if (!waited.reached) throw new Error('the hanging requests never all reached the server');
      const sentAt = common.now();
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.settleWithin(
        [...outcomes, ...hanging.map((connection) => connection.closed)],
        common.SETTLE_MS,
      );
      const hangingOpen = hanging.filter((connection) => connection.isOpen).length;
      common.abandon(slow.filter((connection) => connection.pending.length > 0));
      const counts = common.countStatuses(await Promise.all(outcomes));
      const drain = common.drainFigures(terminated);
      return {
        dropped: params.slow - counts.complete,
        resets: counts.reset + counts.closed,
        closed: drain.closed,
        timeToCloseMs: drain.timeToCloseMs,
        libraryReport: drain.libraryReport,
        closeMinusDeadlineMs:
          drain.timeToCloseMs === null ? null : drain.timeToCloseMs - params.graceMs,
        hangingOpen,
        idleRst: common.idleFigures(idle, sentAt).idleRst,
      };
    } finally {
      for (const connection of connections) connection.destroy();
      await server.kill();
    }
  },
};
