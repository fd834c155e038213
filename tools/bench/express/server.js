'use strict';

// The server of cpu.js, forked with IPC: `node server.js <bare|middleware|lastcall>
// <express|express5>`. bare: Express alone; middleware: with `ge.middleware` on a plain http
// server; lastcall: with `ge.middleware` and `ge.listen()` (the terminator too). Answers GET /hello; on { cmd: 'start' } starts counting CPU time and requests, on
// { cmd: 'stop' } replies { cpuMicros, requests } for the window between the two.

const [variant, expressModule] = process.argv.slice(2);
const express = require(expressModule);
const app = express();

const listenBare = (port, host, callback) => {
  const server = require('node:http').createServer(app);
  server.listen(port, host, callback);
  return server;
};
if (variant === 'bare') {
  start(listenBare);
} else if (variant === 'middleware' || variant === 'lastcall') {
  const { Graceful } = require('@lastcall/graceful');
  const { GracefulExpress } = require('@lastcall/express');
  const graceful = Graceful.start({ signals: [] });
  const ge = new GracefulExpress({ graceful, inProcessTest: false });
  app.use(ge.middleware);
  start(variant === 'lastcall' ? ge.listen.bind(ge, app) : listenBare);
} else {
  throw new Error(`unknown variant ${variant}: bare, middleware or lastcall`);
}

let requests = 0;
let startedAt;
app.get('/hello', (request, response) => {
  requests += 1;
  response.send('hello');
});

function start(listen) {
  const server = listen(0, '127.0.0.1', () => {
    process.send({ cmd: 'listening', port: server.address().port });
  });
}

process.on('message', (message) => {
  if (message.cmd === 'start') {
    requests = 0;
    startedAt = process.cpuUsage();
    process.send({ cmd: 'started' });
  } else if (message.cmd === 'stop') {
    const { user, system } = process.cpuUsage(startedAt);
    process.send({ cmd: 'stopped', cpuMicros: user + system, requests });
  } else if (message.cmd === 'exit') {
    process.exit(0);
  }
});
