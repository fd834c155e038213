'use strict';

// The request handler every benchmark server runs, and the server-side counters the parent
// reads back over IPC. Only our own handler code is instrumented: the library under test sees
// an ordinary server with one `request` listener, like a real application.

const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');

const CONNECTION_CLOSE = /\r\nconnection: *close\r\n/i;

function parseQuery(url) {
  const query = {};
  const index = url.indexOf('?');
  if (index === -1) return query;
  for (const pair of url.slice(index + 1).split('&')) {
    const [key, value] = pair.split('=');
    if (key !== undefined) query[key] = Number(value);
  }
  return query;
}

function createApp() {
  const events = new EventEmitter();
  const counters = {
    connections: 0,
    requests: 0,
    finished: 0,
    aborted: 0,
    inFlight: 0,
    headersSent: 0,
    drainStartedAt: null,
    drainRequests: 0,
    drainFinished: 0,
    drainConnectionClose: 0,
    lastFinishAt: null,
  };
  let isDraining = false;

  function changed() {
    events.emit('change', counters);
  }

  function onFinish(res) {
    counters.finished += 1;
    counters.inFlight -= 1;
    counters.lastFinishAt = performance.now();
    if (isDraining) {
      counters.drainFinished += 1;
      // HTTP/1 only: the exact head that went on the wire. HTTP/2 has no Connection header.
      if (typeof res._header === 'string' && CONNECTION_CLOSE.test(res._header)) {
        counters.drainConnectionClose += 1;
      }
    }
    changed();
  }

  function route(res, path, query) {
    if (path === '/fast') {
      res.end('ok');
      return null;
    }
    if (path === '/slow') {
      return setTimeout(() => res.end('slow'), query.ms || 300);
    }
    if (path === '/stream') {
      const chunks = query.chunks || 10;
      const size = query.size || 1024;
      const chunk = Buffer.alloc(size, 97);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': chunks * size });
      res.flushHeaders();
      counters.headersSent += 1;
      changed();
      let sent = 0;
      const timer = setInterval(
        () => {
          sent += 1;
          if (sent < chunks) {
            res.write(chunk);
          } else {
            clearInterval(timer);
            res.end(chunk);
          }
        },
        (query.ms || 300) / chunks,
      );
      return timer;
    }
    if (path === '/hang') return null;
    res.statusCode = 404;
    res.end('not found');
    return null;
  }

  function handle(req, res) {
    counters.requests += 1;
    counters.inFlight += 1;
    if (isDraining) counters.drainRequests += 1;
    let timer = null;
    let isFinished = false;
    res.once('finish', () => {
      isFinished = true;
      onFinish(res);
    });
    res.once('close', () => {
      clearTimeout(timer);
      clearInterval(timer);
      if (!isFinished) {
        counters.aborted += 1;
        counters.inFlight -= 1;
        changed();
      }
    });
    const url = req.url || '/';
    const queryIndex = url.indexOf('?');
    const path = queryIndex === -1 ? url : url.slice(0, queryIndex);
    timer = route(res, path, parseQuery(url));
    changed();
  }

  function countConnection() {
    counters.connections += 1;
    changed();
  }

  function markDraining() {
    isDraining = true;
    counters.drainStartedAt = performance.now();
  }

  /** Resolves when every target ({ requests, connections, inFlight, headersSent }) is reached. */
  function waitFor(targets, timeoutMs) {
    return new Promise((resolve) => {
      const isReached = () =>
        Object.entries(targets).every(([key, value]) => counters[key] >= value);
      if (isReached()) {
        resolve({ reached: true });
        return;
      }
      const onChange = () => {
        if (!isReached()) return;
        clearTimeout(timer);
        events.off('change', onChange);
        resolve({ reached: true });
      };
      const timer = setTimeout(() => {
        events.off('change', onChange);
        resolve({ reached: false });
      }, timeoutMs);
      events.on('change', onChange);
    });
  }

  return { counters, handle, countConnection, markDraining, waitFor };
}

module.exports = { createApp };
