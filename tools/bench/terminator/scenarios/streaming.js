'use strict';

// S4: streaming responses in flight at shutdown: headers already sent, the body trickles in
// `chunks` pieces over `streamMs`. A response counts only if every byte of its Content-Length
// arrived.

const { connect, mapLimit } = require('../clients/raw-http');
const common = require('./common');

module.exports = {
  id: 'S4',
  baselines: ['lastcall-idle-grace-0'],
  title: 'streaming responses in flight',
  protocol: 'http',
  columns: [
    { key: 'dropped', label: 'truncated / dropped', unit: 'resp' },
    { key: 'resets', label: 'client resets', unit: 'resp' },
    { key: 'closeLagMs', label: 'close − last completion', unit: 'ms', ratio: true },
    { key: 'timeToCloseMs', label: 'time to close', unit: 'ms', ratio: true },
  ],
  describe: (params) =>
    `${params.streams} responses whose headers were sent before the shutdown and whose ` +
    `${params.chunks} × ${params.size} B body trickles over ${params.streamMs} ms; ` +
    `grace ${params.graceMs} ms.`,
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    let connections = [];
    try {
      connections = await mapLimit(params.streams, 100, () => connect({ port: server.port }));
      let headsReceived = 0;
      let onAllHeads;
      const allHeads = new Promise((resolve) => {
        onAllHeads = resolve;
      });
      const path = `/stream?ms=${params.streamMs}&chunks=${params.chunks}&size=${params.size}`;
      const outcomes = connections.map((connection) =>
        connection.get(path, () => {
          headsReceived += 1;
          if (headsReceived === params.streams) onAllHeads();
        }),
      );
      const isReady = await common.settleWithin([allHeads], 10000);
      if (!isReady) throw new Error('the streaming responses never all started');
      const terminated = await server.terminate(params.graceMs + common.HARNESS_SLACK_MS);
      await common.settleWithin(outcomes, common.SETTLE_MS);
      common.abandon(connections.filter((connection) => connection.pending.length > 0));
      const results = await Promise.all(outcomes);
      const counts = common.countStatuses(results);
      return {
        dropped: params.streams - counts.complete,
        resets: counts.reset + counts.closed,
        ...common.drainFigures(terminated),
      };
    } finally {
      for (const connection of connections) connection.destroy();
      await server.kill();
    }
  },
};
