'use strict';

// Entry point of one benchmark server process (child_process.fork). argv[2] is a JSON config:
// { lib, protocol: 'http' | 'https' | 'h2c', graceMs, webSocket, exposeGc, keepAliveTimeout }.
// The child listens on 127.0.0.1:0, reports its port over IPC and answers the parent's messages:
//   { type: 'wait', targets, timeoutMs }  -> { type: 'waited', reached, counters }
//   { type: 'terminate', boundMs }        -> { type: 'terminated', ... timings and counters }
//   { type: 'cpu-start' } / 'cpu-stop'    -> process.cpuUsage() and requests over the window
//   { type: 'heap' }                      -> heapUsed after two full GCs (child run with --expose-gc)
// It exits when the parent disconnects; the parent also kills it at the end of every run.

const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const { performance } = require('node:perf_hooks');
const { createApp } = require('./app');
const { loadTlsFixture } = require('./tls-fixture');
const { getAdapter } = require('../adapters');

const config = JSON.parse(process.argv[2] || '{}');
const app = createApp();

function createServer(protocol) {
  if (protocol === 'http') return http.createServer(app.handle);
  if (protocol === 'https') return https.createServer(loadTlsFixture(), app.handle);
  if (protocol === 'h2c') return http2.createServer(app.handle);
  throw new Error(`unknown protocol ${protocol}`);
}

const server = createServer(config.protocol);
// The scale curves open up to tens of thousands of sockets, which can take longer than Node's
// 5 s keep-alive timeout: the first ones would close before the heap is read and the drain runs.
if (config.keepAliveTimeout !== undefined) server.keepAliveTimeout = config.keepAliveTimeout;
server.on('connection', app.countConnection);

let webSockets = null;
let onUpgrade = null;
if (config.webSocket) {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ server });
  webSockets = new Map();
  wss.on('connection', (ws, req) => {
    webSockets.set(req.socket, ws);
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {});
    ws.once('close', () => webSockets.delete(req.socket));
  });
  if (config.lib === 'lastcall') {
    onUpgrade = (socket) => {
      const ws = webSockets.get(socket);
      if (ws) ws.close(1001, 'server shutting down');
    };
  }
}

const library = getAdapter(config.lib).attach(server, {
  graceMs: config.graceMs,
  onUpgrade,
  protocol: config.protocol,
});

function send(message) {
  if (process.connected) process.send(message);
}

function snapshot() {
  return { ...app.counters };
}

function reportOf(value) {
  if (value === undefined || value === null) return null;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return String(value);
  }
}

/**
 * Measures the longest event-loop block from `startedAt` on: a 1 ms timer re-armed at each
 * firing, so that the gap between two firings is a block plus the timer's own 1 ms (subtracted).
 * A timer, not a setImmediate chain, so that an idle loop sleeps in its poll phase instead of
 * spinning against the clients on the same cores. Precision about ±1 ms.
 */
function startLoopProbe(startedAt) {
  let last = startedAt;
  let longest = 0;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 1);
    last = now;
    timer = setTimeout(tick, 1);
  };
  let timer = setTimeout(tick, 1);
  return {
    stop() {
      clearTimeout(timer);
      tick();
      clearTimeout(timer);
      return Math.max(0, longest);
    },
  };
}

function terminate(boundMs) {
  let serverClosedAt = null;
  server.once('close', () => {
    serverClosedAt = performance.now();
  });
  app.markDraining();
  const startedAt = app.counters.drainStartedAt;
  let isReported = false;
  let stallMs = null;
  let stopProbe = () => {};
  const finish = (outcome) => {
    if (isReported) return;
    isReported = true;
    clearTimeout(bound);
    stopProbe();
    const closedAt = outcome.resolved ? performance.now() : null;
    // Give the 'close' event of the listener one turn to land when the library resolved first.
    setImmediate(() =>
      send({
        type: 'terminated',
        resolved: outcome.resolved,
        error: outcome.error || null,
        libraryReport: reportOf(outcome.value),
        startedAt,
        stallMs,
        closedAt,
        serverClosedAt,
        counters: snapshot(),
        openWebSockets: webSockets ? webSockets.size : null,
      }),
    );
  };
  const bound = setTimeout(
    () => finish({ resolved: false, error: 'did not close in time' }),
    boundMs,
  );
  let pending;
  try {
    pending = Promise.resolve(library.terminate());
  } catch (error) {
    pending = Promise.reject(error);
  }
  // The longest the event loop was held from terminate() to the library's answer: the call
  // itself, its nextTicks and microtasks, and every later turn of work it scheduled (stoppable
  // defers its whole stop() to a setImmediate; lastcall closes idle sockets in batches).
  const probe = startLoopProbe(startedAt);
  stopProbe = () => {
    stallMs = probe.stop();
  };
  pending.then(
    (value) => finish({ resolved: true, value }),
    (error) => finish({ resolved: true, error: String((error && error.message) || error) }),
  );
}

let cpuWindow = null;

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'wait') {
    app.waitFor(message.targets, message.timeoutMs).then(({ reached }) => {
      send({ type: 'waited', reached, counters: snapshot() });
    });
  } else if (message.type === 'terminate') {
    terminate(message.boundMs);
  } else if (message.type === 'heap') {
    global.gc();
    global.gc();
    send({ type: 'heap', heapUsed: process.memoryUsage().heapUsed });
  } else if (message.type === 'counters') {
    send({ type: 'counters', counters: snapshot() });
  } else if (message.type === 'cpu-start') {
    cpuWindow = {
      usage: process.cpuUsage(),
      at: performance.now(),
      requests: app.counters.requests,
    };
    send({ type: 'cpu-started' });
  } else if (message.type === 'cpu-stop') {
    const usage = process.cpuUsage(cpuWindow.usage);
    send({
      type: 'cpu-stopped',
      userMicros: usage.user,
      systemMicros: usage.system,
      elapsedMs: performance.now() - cpuWindow.at,
      requests: app.counters.requests - cpuWindow.requests,
    });
  }
});

process.on('disconnect', () => process.exit(0));

server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  send({ type: 'listening', port: server.address().port, pid: process.pid });
});
