'use strict';
// The app every variant starts: a bare http server answering `hello` on 127.0.0.1:$PORT (0 when
// unset). Nothing else, so that what a variant adds shows, but one message to the primary when
// it listens: the ms since this process started and the CPU ms it used by then, as the worker
// itself sees them (unmoved by how soon a busy primary reads its 'listening').
const server = require('node:http')
  .createServer((request, response) => {
    response.end('hello');
  })
  .listen(Number(process.env.PORT ?? 0), '127.0.0.1');

server.once('listening', () => {
  const { user, system } = process.cpuUsage();
  process.send?.({
    workerStart: { startToListenMs: performance.now(), cpuToListenMs: (user + system) / 1000 },
  });
});

module.exports = server;
