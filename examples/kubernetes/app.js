'use strict';
/**
 * The app of docs/kubernetes.md, run in every worker by `lastcall start app.js`. A plain
 * `node:http` server with nothing of lastcall in it: the master's heartbeat answers the kubelet's
 * probes, and the worker runtime marks every response `Connection: close` from the first moment
 * of a SIGTERM, so that clients kept alive through kube-proxy reconnect to another pod.
 *
 * Every request (any method; a body is read to its end) is answered with JSON that says who
 * answered: `{ "host", "pid", "version" }`, where host is the pod's name. A query `?ms=N` answers
 * N milliseconds later (at most 10000): a request still in flight when a drain starts.
 *
 * Environment: PORT (default 8080), POD_NAME (the Deployment sets it from the downward API;
 * default the hostname, which Kubernetes also sets to the pod's name), APP_VERSION (default the
 * version in this folder's package.json).
 */
const http = require('node:http');
const os = require('node:os');

const port = Number(process.env.PORT || 8080);
const podName = process.env.POD_NAME || os.hostname();
const version = process.env.APP_VERSION || require('./package.json').version;

http
  .createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const asked = Number(new URL(request.url ?? '/', 'http://app').searchParams.get('ms'));
      const delayMs = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 10_000) : 0;
      setTimeout(() => {
        const body = JSON.stringify({ host: podName, pid: process.pid, version });
        response.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        });
        response.end(body);
      }, delayMs);
    });
  })
  .listen(port);
