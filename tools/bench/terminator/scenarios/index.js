'use strict';

// The scenario registry and each scenario's parameters (default, --quick, --max).

const idleInFlight = require('./idle-in-flight');
const { SCALE_SCENARIOS, scaleParams } = require('./scale-curves');

const SCENARIOS = [
  idleInFlight.s1,
  idleInFlight.idle10k,
  require('./keep-alive-load'),
  idleInFlight.s3,
  require('./streaming'),
  require('./pipelined'),
  require('./hanging'),
  require('./h2c'),
  require('./websocket'),
  require('./partial-heads'),
  require('./steady-cpu'),
  ...SCALE_SCENARIOS,
];

const GRACE_MS = 3000;

/** Parameters per scenario id; `mode` is 'default', 'quick' or 'max'. */
function scenarioParams(mode) {
  const isQuick = mode === 'quick';
  const isMax = mode === 'max';
  const idleInFlightParams = {
    idle: isMax ? 5000 : isQuick ? 300 : 1000,
    inFlight: isMax ? 500 : isQuick ? 50 : 100,
    slowMs: 300,
    graceMs: GRACE_MS,
  };
  return {
    S1: idleInFlightParams,
    'S1-10k': { idle: 10000, graceMs: GRACE_MS },
    S2: { connections: 50, warmMs: isQuick ? 500 : 1000, graceMs: GRACE_MS },
    S3: idleInFlightParams,
    S4: { streams: 100, streamMs: 300, chunks: 10, size: 1024, graceMs: GRACE_MS },
    S5: { undiciClients: 20, rawConnections: 20, depth: 10, slowMs: 200, graceMs: GRACE_MS },
    S6: { hanging: 50, slow: 10, slowMs: 200, idle: 100, graceMs: 500 },
    S7: { sessions: 20, streamsPerSession: 5, idleSessions: 20, slowMs: 300, graceMs: GRACE_MS },
    S8: { clients: 100, graceMs: GRACE_MS },
    S9: { partial: 50, silent: 50, restAfterMs: 100, graceMs: GRACE_MS },
    CPU: { connections: 50, warmupS: 1, durationS: isQuick ? 2 : 5, graceMs: GRACE_MS },
    ...scaleParams(mode, GRACE_MS),
  };
}

module.exports = { SCENARIOS, scenarioParams };
