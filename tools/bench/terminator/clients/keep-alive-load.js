'use strict';

// Continuous keep-alive load from an undici Pool: `connections` loops, each sending GET /fast
// back to back (pipelining 1). A loop stops at its first failure, so every failure is one client
// that saw one failed request. undici honours `Connection: close` (it opens a new connection for
// the next request) and reports a request written on a connection the server then closed as
// 'other side closed' or ECONNRESET; a new connection refused after the listener closed is
// ECONNREFUSED, which is counted apart: that request never reached the server and is safe to retry.

const { Pool } = require('undici');

const REFUSED = new Set(['ECONNREFUSED']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function classify(error) {
  const code = (error && error.code) || 'ERROR';
  if (REFUSED.has(code)) return 'refused';
  if (RESET.has(code)) return 'reset';
  if (TIMEOUT.has(code)) return 'timeout';
  return 'other';
}

function startKeepAliveLoad({ origin, connections, requestTimeoutMs = 10000 }) {
  const pool = new Pool(origin, {
    connections,
    pipelining: 1,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });
  const totals = { ok: 0, non2xx: 0, refused: 0, reset: 0, timeout: 0, other: 0, errorCodes: {} };
  let isStopping = false;

  async function loop() {
    while (!isStopping) {
      try {
        const { statusCode, body } = await pool.request({ path: '/fast', method: 'GET' });
        await body.dump();
        if (statusCode >= 200 && statusCode < 300) totals.ok += 1;
        else totals.non2xx += 1;
      } catch (error) {
        const kind = classify(error);
        totals[kind] += 1;
        const code = (error && error.code) || 'ERROR';
        totals.errorCodes[code] = (totals.errorCodes[code] || 0) + 1;
        return;
      }
    }
  }

  const loops = Array.from({ length: connections }, loop);
  const finished = Promise.all(loops);

  return {
    totals,
    finished,
    async stop() {
      isStopping = true;
      await pool.destroy().catch(() => {});
    },
  };
}

module.exports = { startKeepAliveLoad };
