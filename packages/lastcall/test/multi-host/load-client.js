'use strict';
/**
 * The lab's load client, run by the tests inside the balancer's namespace
 * (`ip netns exec <lb> node load-client.js`). A protocol-compliant keep-alive client: undici's Pool, which
 * keeps connections open between requests, closes one that a response marked `Connection: close`,
 * and never retries. Every request is a POST with a small body, so that no balancer may replay it
 * on another connection after a failure (nginx and HAProxy retry only idempotent requests there):
 * each failure the balancer saw reaches this client and is counted.
 *
 * Its settings come as JSON in LOAD_CONFIG:
 *   url          the balancer's frontend, e.g. http://127.0.0.1:8000/
 *   connections  the Pool's connections
 *   mode         'lanes': `lanes` loops, each sends a request, waits for its answer, then pauses
 *                `pauseMs`; 'waves': every `periodMs` (± `jitterMs`, uniform), `waveSize` requests
 *                at once, so that the balancer uses (and then leaves idle) that many upstream
 *                connections together
 *   timeoutMs    a request without its full answer by then is a failure (UND_ERR_*_TIMEOUT)
 *
 * stdout, one JSON object a line: `{"event":"first-ok"}` after the first good answer, then on the
 * line `stop` on stdin (or SIGTERM) it stops sending, waits for what is in flight and prints
 * `{"event":"report", sent, ok, failed, failures: [{ at, code, status, message }] (the first 200),
 * failureKinds: { <code or "HTTP <status>">: count }, backends: { <host>: { count, first, last } },
 * versions: { <version>: count }, pids: { <host>: [pid] } }` (times are epoch milliseconds), then
 * exits 0.
 */
const { Pool } = require('undici');

const config = JSON.parse(process.env.LOAD_CONFIG || '{}');
const url = new URL(config.url);
const timeoutMs = config.timeoutMs ?? 10_000;
const pool = new Pool(url.origin, {
  connections: config.connections ?? 8,
  pipelining: 1,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
});

const report = {
  sent: 0,
  ok: 0,
  failed: 0,
  failures: [],
  failureKinds: {},
  backends: {},
  versions: {},
  pids: {},
};
let isStopping = false;
let hasAnsweredOk = false;
const inFlight = new Set();

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

function recordFailure(failure) {
  report.failed += 1;
  const kind = failure.code ?? `HTTP ${failure.status}`;
  report.failureKinds[kind] = (report.failureKinds[kind] ?? 0) + 1;
  // Bounded: a broken run still prints a report of readable size.
  if (report.failures.length < 200) report.failures.push(failure);
}

function recordAnswer(body) {
  const answer = JSON.parse(body);
  const backend = (report.backends[answer.host] ??= { count: 0, first: Date.now(), last: 0 });
  backend.count += 1;
  backend.last = Date.now();
  report.versions[answer.version] = (report.versions[answer.version] ?? 0) + 1;
  const pids = (report.pids[answer.host] ??= []);
  if (!pids.includes(answer.pid)) pids.push(answer.pid);
}

async function sendOne() {
  report.sent += 1;
  const at = Date.now();
  try {
    const response = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ at }),
    });
    const body = await response.body.text();
    if (response.statusCode !== 200) {
      recordFailure({ at, code: null, status: response.statusCode, message: body.slice(0, 100) });
      return;
    }
    recordAnswer(body);
    report.ok += 1;
    if (!hasAnsweredOk) {
      hasAnsweredOk = true;
      print({ event: 'first-ok' });
    }
  } catch (error) {
    recordFailure({ at, code: error.code ?? error.name, status: null, message: error.message });
  }
}

function track(promise) {
  inFlight.add(promise);
  void promise.finally(() => inFlight.delete(promise));
  return promise;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function lane(pauseMs) {
  while (!isStopping) {
    await track(sendOne());
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

async function waves({ waveSize, periodMs, jitterMs = 0 }) {
  while (!isStopping) {
    for (let index = 0; index < waveSize; index += 1) track(sendOne());
    await sleep(periodMs + (Math.random() * 2 - 1) * jitterMs);
  }
}

function start() {
  if (config.mode === 'waves') return [waves(config)];
  return Array.from({ length: config.lanes ?? 8 }, () => lane(config.pauseMs ?? 0));
}

const loops = start();

let stopped;
function stop() {
  stopped ??= (async () => {
    isStopping = true;
    await Promise.all(loops);
    await Promise.all(inFlight);
    print({ event: 'report', ...report });
    await pool.close();
    process.exit(0);
  })();
}

let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk.toString('utf8');
  if (input.includes('stop\n')) stop();
});
process.on('SIGTERM', stop);
