'use strict';
/**
 * A child of the supervisor: a plain http server on the port it is told in PORT. It knows
 * nothing of lastcall; it logs to stdout and stderr as it did under child_monitor.
 *
 *   GET /        hello, with its pid and port
 *   GET /health  200, or 500 while a file `sick-<port>` exists in the folder it runs in
 */
const fs = require('node:fs');
const http = require('node:http');

const port = Number(process.env.PORT);

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.statusCode = fs.existsSync(`sick-${String(port)}`) ? 500 : 200;
    res.end();
    return;
  }
  res.end(`child ${String(process.pid)} on ${String(port)}\n`);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`child ${String(process.pid)} listening on ${String(port)}`);
  console.error(`child ${String(process.pid)} warns on stderr`);
});
