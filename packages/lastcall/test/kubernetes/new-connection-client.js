'use strict';
/**
 * Clients that open a new connection for every request, run by kubernetes.e2e.test.ts inside the
 * balancer's namespace (`ip netns exec <lb> node new-connection-client.js`). Through kube-proxy each
 * new connection picks an endpoint afresh, so until the removal of a deleted pod's endpoint has
 * propagated, some of them still land on that pod: these are the requests that lastcall's
 * shutdownDelay must answer. No retries: every failure is counted and attributed.
 *
 * Its settings come as JSON in LOAD_CONFIG:
 *   url         the Service, e.g. http://10.232.7.1:80/
 *   intervalMs  a new request (on a new connection, `Connection: close`) this often
 *   timeoutMs   a request without its full answer by then is a failure (`TIMEOUT`)
 *
 * stdout: `{"event":"first-ok"}` after the first good answer; on the line `stop` on stdin it stops
 * sending, waits for what is in flight and prints `{"event":"report", sent, ok, failed, failures:
 * [{ at, code, status }], answers: [{ at, host }]}` (at: when the request was sent, epoch ms),
 * then exits 0.
 */
const http = require('node:http');

const config = JSON.parse(process.env.LOAD_CONFIG || '{}');
const report = { sent: 0, ok: 0, failed: 0, failures: [], answers: [] };
const inFlight = new Set();
let hasAnsweredOk = false;

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

function sendOne() {
  const at = Date.now();
  report.sent += 1;
  return new Promise((resolve) => {
    // A request can fail twice over (the response's error, then the request's): counted once.
    let isSettled = false;
    const fail = (code, status) => {
      if (isSettled) return;
      isSettled = true;
      report.failed += 1;
      if (report.failures.length < 500) report.failures.push({ at, code, status });
      resolve();
    };
    const request = http.get(
      config.url,
      { agent: false, headers: { connection: 'close' } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('error', (error) => fail(error.code ?? error.message, null));
        response.on('end', () => {
          if (response.statusCode !== 200) {
            fail(null, response.statusCode);
            return;
          }
          if (isSettled) return;
          isSettled = true;
          report.ok += 1;
          report.answers.push({ at, host: JSON.parse(body).host });
          if (!hasAnsweredOk) {
            hasAnsweredOk = true;
            print({ event: 'first-ok' });
          }
          resolve();
        });
      },
    );
    request.setTimeout(config.timeoutMs ?? 10_000, () =>
      request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    request.on('error', (error) => fail(error.code ?? error.message, null));
  });
}

const timer = setInterval(() => {
  const sent = sendOne();
  inFlight.add(sent);
  void sent.then(() => inFlight.delete(sent));
}, config.intervalMs ?? 20);

process.stdin.on('data', (chunk) => {
  if (!chunk.toString('utf8').includes('stop')) return;
  clearInterval(timer);
  void Promise.all(inFlight).then(() => {
    print({ event: 'report', ...report });
    process.exit(0);
  });
});
