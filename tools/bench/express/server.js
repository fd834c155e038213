'use strict';

// The server of cpu.js, forked with IPC: `node server.js <bare|lastcall> <express|express5>`.
// Answers GET /hello; on { cmd: 'start' } starts counting CPU time and requests, on
// { cmd: 'stop' } replies { cpuMicros, requests } for the window between the two.

const [variant, expressModule] = process.argv.slice(2);
const express = require(expressModule);
const app = express();

if (variant === 'lastcall') {
  const { Graceful } = require('@lastcall/graceful');
  const { GracefulExpress } = require('@lastcall/express');
  const graceful = Graceful.start({ signals: [] });
  const ge = new GracefulExpress({ graceful, inProcessTest: false });
  app.use(ge.middleware);
  start(ge.listen.bind(ge, app));
} else {
  start((port, host, callback) => {
    const server = require('node:http').createServer(app);
    server.listen(port, host, callback);
    return server;
  });
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
