'use strict';

// Steady-state cost: server CPU per request (process.cpuUsage() delta in the server child over a
// fixed autocannon run, divided by the requests served in that window), with each library
// attached but no shutdown, against a bare server. autocannon is right here: nothing closes, so
// its blindness to `Connection: close` does not matter.

const autocannon = require('autocannon');

function runAutocannon(origin, connections, durationS) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${origin}/fast`, connections, pipelining: 1, duration: durationS },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

module.exports = {
  id: 'CPU',
  title: 'steady-state server CPU per request',
  protocol: 'http',
  includesBare: true,
  columns: [
    { key: 'cpuMicrosPerRequest', label: 'server CPU per request', unit: 'µs', bareRatio: true },
    { key: 'requestsPerSecond', label: 'requests/s', unit: 'req/s' },
    { key: 'errors', label: 'autocannon errors', unit: 'req' },
  ],
  describe: (params) =>
    `autocannon, ${params.connections} connections, pipelining 1, GET /fast: ` +
    `${params.warmupS} s warm-up, then ${params.durationS} s measured; no shutdown.`,
  async run({ lib, params, startServer }) {
    const server = await startServer({ lib, protocol: 'http', graceMs: params.graceMs });
    try {
      await runAutocannon(server.origin, params.connections, params.warmupS);
      await server.cpuStart();
      const result = await runAutocannon(server.origin, params.connections, params.durationS);
      const window = await server.cpuStop();
      return {
        cpuMicrosPerRequest: (window.userMicros + window.systemMicros) / window.requests,
        requestsPerSecond: (1000 * window.requests) / window.elapsedMs,
        errors: result.errors + result.timeouts,
      };
    } finally {
      await server.kill();
    }
  },
};
