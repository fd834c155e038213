'use strict';
/**
 * The app each host of docs/deploying.md runs, as `lastcall start app.js --workers 2 ...`.
 * A plain `node:http` server, with nothing of lastcall in it: the worker runtime applies
 * `--keep-alive-timeout` and `--headers-timeout` to it and marks its responses `Connection: close`
 * while the host is disabled or shutting down.
 *
 * Every request (any method; a body is read to its end) is answered with JSON that says who
 * answered: `{ "host", "pid", "version" }`. The version is the one lastcall's heartbeat reports
 * for this worker: LASTCALL_APP_VERSION, else the version of this folder's package.json, read
 * when the worker starts, so a deploy that puts a new package.json in place and runs
 * `lastcall reload` shows the new version from the first new worker on.
 *
 * Environment: PORT (default 8080), HOST (default all addresses), HOST_NAME (default the
 * machine's hostname), RESPONSE_DELAY_MS (answer after this long; default 0), and
 * APP_KEEP_ALIVE_TIMEOUT (the app's own `server.keepAliveTimeout` in ms, as many apps set it;
 * lastcall's `--keep-alive-timeout` wins over it).
 */
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 8080);
const hostName = process.env.HOST_NAME || os.hostname();
const version = process.env.LASTCALL_APP_VERSION || require('./package.json').version;
const delayMs = Number(process.env.RESPONSE_DELAY_MS || 0);

const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const body = JSON.stringify({ host: hostName, pid: process.pid, version });
    const answer = () => {
      response.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      });
      response.end(body);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});

if (process.env.APP_KEEP_ALIVE_TIMEOUT) {
  server.keepAliveTimeout = Number(process.env.APP_KEEP_ALIVE_TIMEOUT);
}

server.listen(port, process.env.HOST || undefined);
