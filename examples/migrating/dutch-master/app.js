'use strict';
/**
 * A dutch-master worker: a plain http server that asks its master to replace it with
 * dutch-master's own message. Nothing here changed: lastcall reads `{ event: 'request-restart' }`
 * as dutch-master did, and forks the replacement before this worker drains.
 *
 *   GET /                  hello, with the worker's pid
 *   GET /request-restart   this worker asks to be replaced (say, after it saw its heap grow)
 */
const http = require('node:http');

const port = Number(process.env.PORT ?? 3000);

const server = http.createServer((req, res) => {
  if (req.url === '/request-restart') {
    process.send({ event: 'request-restart' });
    res.end(`worker ${String(process.pid)} asked to be replaced\n`);
    return;
  }
  res.end(`hello from worker ${String(process.pid)}\n`);
});

server.listen(port, '127.0.0.1');
