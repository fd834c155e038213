'use strict';
/**
 * The loads of the cluster bench.
 *
 * - `compliantLoad`: undici's keep-alive Pool, which honours `Connection: close`; no retries;
 *   every request is recorded with its start, end and outcome. `fresh: true` opens a new
 *   connection for every request instead.
 * - `autocannonLoad`: autocannon, which ignores `Connection: close`; counted as requests sent
 *   minus answered minus errors, against a run without an event.
 */
const { Pool } = require('undici');

/**
 * A request of the loops unanswered after this long counts as a timeout. The app answers in
 * milliseconds, and the report prints the slowest answer of every cell, so a longer limit would
 * only make the run wait for requests that are not coming.
 */
const REQUEST_TIMEOUT_MS = 2000;

/** The failure kind of an undici error. */
function kindOf(error) {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_ABORTED'
  )
    return 'timeout';
  if (
    code === 'ECONNRESET' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_CLOSED'
  )
    return 'reset';
  return `other:${code || error.message}`;
}

/**
 * Loops of requests until `stop()`. Each record: { start, end, status, kind } (ms since the
 * load began); `kind` is 'ok', 'non2xx', 'reset', 'refused', 'timeout' or 'other:<code>'.
 */
function compliantLoad(
  port,
  { connections = 8, fresh = false, path = '/', timeoutMs = REQUEST_TIMEOUT_MS } = {},
) {
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const t0 = performance.now();
  const records = [];
  let running = true;
  const once = async (urlPath) => {
    const start = performance.now() - t0;
    try {
      const response = await pool.request({ path: urlPath, method: 'GET', reset: fresh });
      const body = await response.body.text();
      const end = performance.now() - t0;
      const kind = response.statusCode >= 200 && response.statusCode < 300 ? 'ok' : 'non2xx';
      records.push({ start, end, status: response.statusCode, kind, pid: body });
    } catch (error) {
      records.push({ start, end: performance.now() - t0, status: 0, kind: kindOf(error) });
    }
  };
  const loops = Array.from({ length: connections }, async () => {
    while (running) await once(path);
  });
  return {
    t0,
    records,
    now: () => performance.now() - t0,
    /**
     * Sends `count` requests to `urlPath` at once, each on a connection of its own (not the
     * loops' pool, which they would starve); resolves with their records.
     */
    async burst(urlPath, count) {
      const own = new Pool(`http://127.0.0.1:${port}`, {
        connections: count,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const sink = [];
      await Promise.all(
        Array.from({ length: count }, async () => {
          const start = performance.now() - t0;
          try {
            const response = await own.request({ path: urlPath, method: 'GET' });
            await response.body.text();
            sink.push({
              start,
              end: performance.now() - t0,
              status: response.statusCode,
              kind: response.statusCode < 300 ? 'ok' : 'non2xx',
            });
          } catch (error) {
            sink.push({ start, end: performance.now() - t0, status: 0, kind: kindOf(error) });
          }
        }),
      );
      await own.close();
      return sink;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      await pool.close();
      return records;
    },
  };
}

/** autocannon for `seconds`, with `during(elapsedMs)` called once at `eventAtMs`. */
async function autocannonLoad(port, { seconds, connections = 8, eventAtMs, during }) {
  const autocannon = require('autocannon');
  let event;
  const timer = during === undefined ? undefined : setTimeout(() => (event = during()), eventAtMs);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
  });
  clearTimeout(timer);
  await event;
  return {
    sent: result.requests.sent,
    answered: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    resets: result.resets ?? 0,
  };
}

/**
 * Asks `/` on new connections, so that the cluster's round robin reaches every worker, for up
 * to `forMs`, and resolves with the pids that answered 200 (none of `besides`) and whether
 * `isEnough(pids)` became true, which ends it early. A probe starts every 10 ms without waiting
 * for the others (at most 20 at once): one that hangs, on a connection handed to a worker that
 * just died, does not delay the answer of the next.
 */
function probePids(port, { forMs, besides = [], isEnough = () => false }) {
  const http = require('node:http');
  return new Promise((resolve) => {
    const pids = new Set();
    const inFlight = new Set();
    let isDone = false;
    const finish = (reached) => {
      if (isDone) return;
      isDone = true;
      clearInterval(timer);
      clearTimeout(deadline);
      for (const request of inFlight) request.destroy();
      resolve({ pids, reached });
    };
    const probe = () => {
      if (inFlight.size >= 20) return;
      const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => {
          if (response.statusCode === 200 && !besides.includes(body)) pids.add(body);
          if (isEnough(pids)) finish(true);
        });
        response.on('error', () => undefined);
      });
      inFlight.add(request);
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy());
      request.on('error', () => undefined);
      request.on('close', () => inFlight.delete(request));
    };
    const timer = setInterval(probe, 10);
    const deadline = setTimeout(() => finish(false), forMs);
    probe();
  });
}

/**
 * Resolves once `workers` different pids (none of `besides`) have answered (see `probePids`).
 * A run's load begins only then, on a service that is really serving: a manager's own "ready"
 * can come before the worker listens (pm2 marks a worker online when its process starts). C1
 * times its replacement by it. Rejects after `timeoutMs`.
 */
async function untilServing(port, workers, { besides = [], timeoutMs = 20_000 } = {}) {
  const { pids, reached } = await probePids(port, {
    forMs: timeoutMs,
    besides,
    isEnough: (seen) => seen.size >= workers,
  });
  if (!reached)
    throw new Error(
      `port ${port}: ${pids.size} of ${workers} workers answered within ${timeoutMs / 1000} s`,
    );
}

/** The pids that answer on new connections within `forMs`: who is really serving (R3). */
async function answeringPids(port, forMs = 500) {
  return [...(await probePids(port, { forMs })).pids];
}

module.exports = {
  REQUEST_TIMEOUT_MS,
  answeringPids,
  autocannonLoad,
  compliantLoad,
  kindOf,
  untilServing,
};
