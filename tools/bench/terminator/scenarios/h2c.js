'use strict';

// S7: HTTP/2 cleartext sessions with in-flight streams at shutdown, plus idle sessions.

const { openSession, get } = require('../clients/h2');
const { mapLimit } = require('../clients/raw-http');
const common = require('./common');

module.exports = {
  id: 'S7',
  title: 'h2c sessions with in-flight streams',
  protocol: 'h2c',
  columns: [
    { key: 'dropped', label: 'streams dropped', unit: 'streams' },
    { key: 'resets', label: 'stream resets / errors', unit: 'streams' },
    { key: 'goawayShare', label: 'sessions that got GOAWAY', unit: '%' },
    { key: 'goawayMs', label: 'last GOAWAY received (client)', unit: 'ms' },
    { key: 'closeLagMs', label: 'close − last completion', unit: 'ms', ratio: true },
    { key: 'timeToCloseMs', label: 'time to close', unit: 'ms', ratio: true },
    { key: 'idleSessionsClosedMs', label: 'last idle session closed (client)', unit: 'ms' },
  ],
  describe: (params) =>
    `${params.sessions} h2c sessions with ${params.streamsPerSession} in-flight streams each ` +
    `(answered after ${params.slowMs} ms) + ${params.idleSessions} idle sessions; ` +
    `grace ${params.graceMs} ms.`,
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'h2c', graceMs: params.graceMs });
    let sessions = [];
    try {
      sessions = await mapLimit(params.sessions + params.idleSessions, 50, async () => {
        const record = await openSession(server.origin);
        const warmUp = await get(record, '/fast');
        if (warmUp.status !== 'complete') throw new Error(`h2 warm-up failed: ${warmUp.status}`);
        return record;
      });
      const busy = sessions.slice(0, params.sessions);
      const idle = sessions.slice(params.sessions);
      const statuses = [];
      const outcomes = busy.flatMap((record) =>
        Array.from({ length: params.streamsPerSession }, () => {
          const slot = statuses.push('timeout') - 1;
          return get(record, `/slow?ms=${params.slowMs}`).then(({ status }) => {
            statuses[slot] = status;
          });
        }),
      );
      const inFlight = params.sessions * params.streamsPerSession;
      const waited = await server.waitFor({ inFlight }, 10000);
      if (!waited.reached) throw new Error('the h2 streams never all reached the server');
      const sentAt = common.now();
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.settleWithin(
        [...outcomes, ...sessions.map((record) => record.closed)],
        common.SETTLE_MS,
      );
      const complete = statuses.filter((status) => status === 'complete').length;
      const errors = statuses.filter((status) => status !== 'complete' && status !== 'timeout');
      const errorCodes = {};
      for (const status of errors) errorCodes[status] = (errorCodes[status] || 0) + 1;
      const idleOpen = idle.filter((record) => record.closedAt === null).length;
      const lastIdleClosedAt = Math.max(sentAt, ...idle.map((record) => record.closedAt || 0));
      const drain = common.drainFigures(terminated);
      return {
        dropped: inFlight - complete,
        resets: errors.length,
        errorCodes,
        goawayShare:
          (100 * sessions.filter((record) => record.goawayAt !== null).length) / sessions.length,
        goawayMs: sessions.some((record) => record.goawayAt === null)
          ? null
          : Math.max(...sessions.map((record) => record.goawayAt)) - sentAt,
        closed: drain.closed,
        timeToCloseMs: drain.timeToCloseMs,
        libraryReport: drain.libraryReport,
        closeLagMs: drain.closeLagMs,
        serverAborted: drain.serverAborted,
        idleSessionsOpen: idleOpen,
        idleSessionsClosedMs: idleOpen > 0 ? null : lastIdleClosedAt - sentAt,
      };
    } finally {
      for (const record of sessions) record.session.destroy();
      await server.kill();
    }
  },
};
