'use strict';
/**
 * The demo app: Express with @lastcall/express, run by `lastcall start` (see start.js and
 * `npm start`). Every worker runs this file.
 *
 *   GET /            hello from worker N
 *   GET /slow?ms=    answers after ms milliseconds (at most 30000)
 *   GET /crash       throws in a timer: only this request fails (a 500), the worker drains and
 *                    the master has its replacement listening before it is gone
 *   GET /ready       readiness: 503 from the first moment of a shutdown
 *   GET /live        liveness
 */
const express = require('express');
const { Graceful, GracefulExpress, workerSlot } = require('lastcall');

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

Graceful.start({ timeout: 25_000 });
const ge = new GracefulExpress();
const worker = `worker ${String(workerSlot() ?? 0)} (pid ${String(process.pid)})`;

const app = express();
app.use(ge.middleware);

app.get('/', (req, res) => {
  res.type('text').send(`hello from ${worker}\n`);
});

app.get('/slow', (req, res) => {
  const asked = Number(req.query.ms ?? 1000);
  const ms = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 30_000) : 1000;
  setTimeout(() => {
    res.type('text').send(`slept ${String(ms)} ms in ${worker}\n`);
  }, ms);
});

app.get('/crash', () => {
  setTimeout(() => {
    throw new Error('the demo crashed on purpose (/crash)');
  }, 10);
});

app.get('/ready', ge.readiness);
app.get('/live', ge.liveness);

app.use(ge.errorHandler);
app.use((err, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const status = err.status ?? err.statusCode ?? 500;
  if (err.headers) res.set(err.headers);
  res
    .status(status)
    .type('text')
    .send(
      status === 500
        ? `500: this request crashed ${worker}; the others are fine\n`
        : `${err.message}\n`,
    );
});

ge.listen(app, port, host);
