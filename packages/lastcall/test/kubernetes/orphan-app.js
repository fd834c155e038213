'use strict';
/**
 * An app whose requests leave orphans, as a tool that daemonizes or a shell's background job does:
 * `GET /orphan` runs `sh -c 'sleep 0.3 & exit 0'`. The worker reaps its child `sh`; the `sleep`
 * outlives it and is re-parented to PID 1 of the PID namespace, which must reap it when it exits.
 * Any other request answers `{ "host", "pid" }`. Environment: PORT, POD_NAME.
 */
const http = require('node:http');
const { spawn } = require('node:child_process');

http
  .createServer((request, response) => {
    if (request.url === '/orphan') {
      spawn('sh', ['-c', 'sleep 0.3 & exit 0'], { stdio: 'ignore' }).on('exit', () => {
        response.end('{"orphaned":"sleep"}');
      });
      return;
    }
    response.end(JSON.stringify({ host: process.env.POD_NAME, pid: process.pid }));
  })
  .listen(Number(process.env.PORT));
