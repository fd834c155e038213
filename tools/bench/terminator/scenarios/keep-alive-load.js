'use strict';

// S2: continuous keep-alive load (undici Pool, pipelining 1) with the shutdown started mid-run.

const { startKeepAliveLoad } = require('../clients/keep-alive-load');
const common = require('./common');

module.exports = {
  id: 'S2',
  baselines: ['lastcall-idle-grace-0'],
  title: 'continuous keep-alive load, shutdown mid-run',
  protocol: 'http',
  columns: [
    { key: 'dropped', label: 'dropped', unit: 'req' },
    { key: 'resets', label: 'client resets', unit: 'req' },
    { key: 'non2xx', label: 'non-2xx', unit: 'req' },
    { key: 'timeouts', label: 'timeouts', unit: 'req' },
    { key: 'closeLagMs', label: 'close − last completion', unit: 'ms', ratio: true },
    { key: 'timeToCloseMs', label: 'time to close', unit: 'ms', ratio: true },
    { key: 'connectionCloseShare', label: '`Connection: close` on drain responses', unit: '%' },
    { key: 'drainResponses', label: 'responses during drain', unit: 'req' },
    { key: 'refused', label: 'ECONNREFUSED (never reached the server)', unit: 'req' },
  ],
  describe: (params) =>
    `${params.connections} undici Pool connections sending GET /fast back to back (pipelining 1); ` +
    `the shutdown starts after ${params.warmMs} ms of load; grace ${params.graceMs} ms. ` +
    'Each client loop stops at its first failure; ECONNREFUSED after the listener closed is not ' +
    'a drop (the request never reached the server).',
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    let load = null;
    try {
      load = startKeepAliveLoad({ origin: server.origin, connections: params.connections });
      await common.sleep(params.warmMs);
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      const isSettled = await common.settleWithin([load.finished], common.SETTLE_MS);
      const totals = load.totals;
      const drain = common.drainFigures(terminated);
      return {
        dropped: totals.reset + totals.timeout + totals.other,
        loopsSettled: isSettled ? 1 : 0,
        resets: totals.reset,
        non2xx: totals.non2xx,
        timeouts: totals.timeout,
        refused: totals.refused,
        served: totals.ok,
        drainResponses: terminated.counters.drainFinished,
        errorCodes: totals.errorCodes,
        ...drain,
      };
    } finally {
      if (load) await load.stop();
      await server.kill();
    }
  },
};
