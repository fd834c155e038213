'use strict';

// node:http2 client sessions over h2c, recording per stream whether it completed and per
// session whether it received GOAWAY and when it closed.

const http2 = require('node:http2');
const { performance } = require('node:perf_hooks');

function openSession(origin) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    const record = { session, goawayAt: null, closedAt: null, errorCode: null };
    session.on('goaway', () => {
      if (record.goawayAt === null) record.goawayAt = performance.now();
    });
    session.on('error', (error) => {
      record.errorCode = error.code || 'ERROR';
    });
    record.closed = new Promise((resolveClosed) => {
      session.once('close', () => {
        record.closedAt = performance.now();
        resolveClosed();
      });
    });
    session.once('connect', () => resolve(record));
    session.once('error', reject);
  });
}

/** Sends GET `path` on the session; resolves with { status: 'complete' | <error code> }. */
function get(record, path) {
  return new Promise((resolve) => {
    let stream;
    try {
      stream = record.session.request({ ':path': path, ':method': 'GET' });
    } catch (error) {
      resolve({ status: error.code || 'ERROR' });
      return;
    }
    let statusCode = null;
    let bytes = 0;
    stream.on('response', (headers) => {
      statusCode = headers[':status'];
    });
    stream.on('data', (chunk) => {
      bytes += chunk.length;
    });
    stream.on('end', () => {
      resolve({ status: statusCode === 200 ? 'complete' : `status ${statusCode}`, bytes });
    });
    stream.on('error', (error) => resolve({ status: error.code || 'ERROR' }));
    stream.on('close', () => {
      if (stream.rstCode) resolve({ status: `RST_STREAM ${stream.rstCode}` });
      else resolve({ status: 'closed' });
    });
  });
}

module.exports = { openSession, get };
