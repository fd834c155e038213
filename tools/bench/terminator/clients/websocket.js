'use strict';

// `ws` clients: open, one echo round trip, then record the close code each one sees.

const { WebSocket } = require('ws');
const { performance } = require('node:perf_hooks');

function openWebSocket(port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const record = { ws, code: null, closedAt: null };
    record.closed = new Promise((resolveClosed) => {
      ws.once('close', (code) => {
        record.code = code;
        record.closedAt = performance.now();
        resolveClosed();
      });
    });
    ws.on('error', (error) => {
      record.errorCode = error.code || 'ERROR';
    });
    const onOpenError = (error) => reject(error);
    ws.once('error', onOpenError);
    ws.once('open', () => {
      ws.send('ping');
      ws.once('message', () => {
        ws.off('error', onOpenError);
        resolve(record);
      });
    });
  });
}

module.exports = { openWebSocket };
