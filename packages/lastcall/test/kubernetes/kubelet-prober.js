'use strict';
/**
 * The kubelet of kubernetes.e2e.test.ts, run on the pod's node (`ip netns exec <host> node
 * kubelet-prober.js`). Like the kubelet's HTTP prober, every probe is a GET on a new connection
 * (`Connection: close`, no agent) with a timeout, to the pod's address, and needs no token.
 *
 * Its settings come as JSON in KUBELET_CONFIG:
 *   base       the heartbeat, e.g. http://10.232.7.2:9000
 *   paths      the routes probed each period, e.g. ['/readyz', '/livez']
 *   periodMs   between two rounds of probes
 *   timeoutMs  a probe without its answer by then failed (the kubelet's timeoutSeconds)
 *   maxMs      it exits by itself this long after its start
 *
 * stdin, one command a line: `get <id> <url>` sends one GET (a new connection, 30 s timeout) and
 * prints `{"event":"get", id, url, sentAt, status, error, doneAt}`; `stop` ends the probes and
 * exits 0.
 * stdout, one JSON object a line: `{"event":"probe", path, sentAt, status, error}` for each probe
 * (status null and error the code when nothing answered); times are epoch milliseconds.
 */
const http = require('node:http');

const config = JSON.parse(process.env.KUBELET_CONFIG || '{}');
const timeoutMs = config.timeoutMs ?? 1000;

function print(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

/** One GET on a new connection: its status, or the error's code (`TIMEOUT` after `ms`). */
function get(url, ms) {
  return new Promise((resolve) => {
    const request = http.get(
      url,
      { agent: false, headers: { connection: 'close' } },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode, error: null }));
        response.on('error', (error) =>
          resolve({ status: null, error: error.code ?? error.message }),
        );
      },
    );
    request.setTimeout(ms, () =>
      request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    request.on('error', (error) => resolve({ status: null, error: error.code ?? error.message }));
  });
}

async function probeRound() {
  await Promise.all(
    config.paths.map(async (path) => {
      const sentAt = Date.now();
      const { status, error } = await get(`${config.base}${path}`, timeoutMs);
      print({ event: 'probe', path, sentAt, status, error });
    }),
  );
}

const timer = setInterval(() => void probeRound(), config.periodMs ?? 100);
void probeRound();
const deadline = setTimeout(() => process.exit(0), config.maxMs ?? 60_000);

let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk.toString('utf8');
  let newline;
  while ((newline = input.indexOf('\n')) !== -1) {
    const line = input.slice(0, newline).trim();
    input = input.slice(newline + 1);
    if (line === 'stop') {
      clearInterval(timer);
      clearTimeout(deadline);
      process.exit(0);
    }
    if (line.startsWith('get ')) {
      const [, id, url] = line.split(' ');
      const sentAt = Date.now();
      void get(url, 30_000).then(({ status, error }) =>
        print({ event: 'get', id, url, sentAt, status, error, doneAt: Date.now() }),
      );
    }
  }
});
