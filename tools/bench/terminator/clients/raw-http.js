'use strict';

// A minimal HTTP/1.1 client over raw net/tls sockets. It sees exactly what went on the wire:
// whether a response was byte-complete, whether it carried `Connection: close`, and whether the
// connection ended with a FIN (`end`) or a reset (ECONNRESET/EPIPE). undici and autocannon hide
// some of that (retries, silent reconnects), so the scenarios that need exact counts use this.

const net = require('node:net');
const tls = require('node:tls');
const { performance } = require('node:perf_hooks');

const HEAD_END = Buffer.from('\r\n\r\n');
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function requestHead(path) {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

function parseHead(text) {
  const lines = text.split('\r\n');
  const statusCode = Number((lines[0] || '').split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusCode, headers };
}

class RawHttpConnection {
  constructor(socket) {
    this.socket = socket;
    this.pending = [];
    this.buffer = Buffer.alloc(0);
    this.current = null;
    this.sawEnd = false;
    this.errorCode = null;
    this.closedAt = null;
    this.endedAt = null;
    this.closeKind = null;
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedAt = performance.now();
        if (this.endedAt === null) this.endedAt = this.closedAt;
        if (this.errorCode)
          this.closeKind = RESET_CODES.has(this.errorCode) ? 'rst' : this.errorCode;
        else this.closeKind = this.sawEnd ? 'fin' : 'local';
        this.failPending(this.errorCode && RESET_CODES.has(this.errorCode) ? 'reset' : 'closed');
        resolve({ kind: this.closeKind, at: this.closedAt });
      });
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => {
      this.sawEnd = true;
      if (this.endedAt === null) this.endedAt = performance.now();
    });
    socket.on('error', (error) => {
      this.errorCode = error.code || 'ERROR';
      if (this.endedAt === null) this.endedAt = performance.now();
    });
  }

  get isOpen() {
    return this.closedAt === null;
  }

  /** Registers one expected response; resolves with its outcome. */
  expectResponse(onHead) {
    return new Promise((resolve) => {
      this.pending.push({ resolve, onHead, head: null, received: 0, expected: 0, headAt: null });
    });
  }

  /** Sends GET `path`; resolves with the outcome of its response. */
  get(path, onHead) {
    const outcome = this.expectResponse(onHead);
    this.write(requestHead(path));
    return outcome;
  }

  /** Sends several GETs in one write (HTTP pipelining); resolves with their outcomes in order. */
  pipeline(paths) {
    const outcomes = paths.map(() => this.expectResponse());
    this.write(paths.map(requestHead).join(''));
    return outcomes;
  }

  write(text) {
    if (this.isOpen && !this.socket.destroyed) this.socket.write(text);
  }

  destroy() {
    this.socket.destroy();
  }

  failPending(status) {
    const pending = this.pending;
    this.pending = [];
    for (const entry of pending) {
      entry.resolve({
        status,
        statusCode: entry.head ? entry.head.statusCode : null,
        bodyBytes: entry.received,
        expectedBytes: entry.head ? entry.expected : null,
        headAt: entry.headAt,
        doneAt: performance.now(),
        connectionClose: entry.head ? entry.head.headers.connection === 'close' : null,
      });
    }
  }

  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const entry = this.pending[0];
      if (!entry) {
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (!entry.head) {
        const end = this.buffer.indexOf(HEAD_END);
        if (end === -1) return;
        entry.head = parseHead(this.buffer.subarray(0, end).toString('latin1'));
        entry.expected = Number(entry.head.headers['content-length'] || 0);
        entry.headAt = performance.now();
        this.buffer = this.buffer.subarray(end + HEAD_END.length);
        if (entry.onHead) entry.onHead(entry.head);
      }
      const take = Math.min(entry.expected - entry.received, this.buffer.length);
      entry.received += take;
      this.buffer = this.buffer.subarray(take);
      if (entry.received < entry.expected) return;
      this.pending.shift();
      entry.resolve({
        status: 'complete',
        statusCode: entry.head.statusCode,
        bodyBytes: entry.received,
        expectedBytes: entry.expected,
        headAt: entry.headAt,
        doneAt: performance.now(),
        connectionClose: entry.head.headers.connection === 'close',
      });
    }
  }
}

/** Opens one connection; resolves once TCP (and TLS) is established. */
function connect({ port, tls: tlsOptions, localAddress }) {
  return new Promise((resolve, reject) => {
    const socket = tlsOptions
      ? tls.connect({ host: '127.0.0.1', port, ca: tlsOptions.cert, servername: 'localhost' })
      : net.connect(
          localAddress ? { host: '127.0.0.1', port, localAddress } : { host: '127.0.0.1', port },
        );
    const onError = (error) => reject(error);
    socket.once('error', onError);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      socket.off('error', onError);
      resolve(new RawHttpConnection(socket));
    });
  });
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
async function mapLimit(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * Opens `count` keep-alive connections, each warmed up by one complete GET /fast, so that they
 * are idle HTTP keep-alive sockets (not fresh, request-less ones) when the shutdown starts.
 */
async function openKeepAlive(count, options) {
  return mapLimit(count, options.concurrency || 200, async (index) => {
    const localAddress = options.localAddressOf ? options.localAddressOf(index) : undefined;
    const connection = await connect(localAddress ? { ...options, localAddress } : options);
    const outcome = await connection.get('/fast');
    if (outcome.status !== 'complete') throw new Error(`warm-up request failed: ${outcome.status}`);
    return connection;
  });
}

module.exports = { connect, openKeepAlive, mapLimit, requestHead };
