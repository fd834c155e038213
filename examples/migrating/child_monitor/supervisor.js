'use strict';
/**
 * The child_monitor pattern, moved to @lastcall/master (docs/migrating/child_monitor.md): a
 * supervisor that runs one child per fixed port, probes each child's port, replaces a child
 * whose probe fails, and writes the children's stdout and stderr through its winston logger.
 * lastcall does each of these; what remains here is configuration.
 *
 * Run it with `node examples/migrating/child_monitor/supervisor.js`; PORTS picks the ports
 * (default 3000,3001). A file `sick-<port>` in the folder it runs in makes the child on that port
 * fail its health check (see child.js), to watch a replacement.
 */
const http = require('node:http');
const path = require('node:path');
const winston = require('winston');
const { Master } = require('@lastcall/master');

const ports = (process.env.PORTS ?? '3000,3001').split(',').map(Number);

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.json(),
  transports: [new winston.transports.Console()],
});

/** The probe: GET /health on the child's own port; up on a 200 within one second. */
function probe({ port }) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

new Master({
  exec: path.join(__dirname, 'child.js'), // was: fork(child.js) once per port, PORT in its env
  ports, // was: one child per port, restarted on the same port
  health: { pingInterval: 500, probe }, // was: a timer probing each child's port, kill and fork
  backoff: { initial: 500, max: 5000, factor: 2, jitter: 0.2 }, // was: a fixed restart delay
  output: 'log', // was: child.stdout.on('data') split into lines and sent to logger.info
  logger, // the supervisor's winston logger: its records and each child line go through it
})
  .start()
  .catch((error) => {
    logger.error(error.message); // which child failed to start, its exit code and stderr
    process.exit(1);
  });
