'use strict';
/**
 * One process, shut down gracefully: an http server whose terminator is a shutdown hook, and a
 * database pool that closes after it (hooks run last-registered-first). `/ready` turns 503 from
 * the first moment of shutdown, `/live` stays 200 until exit.
 *
 *   node examples/single-process/server.js     # then Ctrl-C, or kill -TERM <pid>
 *
 * PORT (default 3000, 0 for any free port) and LASTCALL_SHUTDOWN_DELAY (ms) are read from the
 * environment. It prints one line per step, so what happens at shutdown can be followed.
 */
const http = require('node:http');
const { Graceful } = require('@lastcall/graceful');
const { createTerminator } = require('@lastcall/terminator');

/** Stands in for a real pool (pg, mysql2, …): end() waits for its connections to close. */
class DatabasePool {
  query(sql) {
    return new Promise((resolve) => setTimeout(() => resolve({ sql, rows: [] }), 5));
  }

  end() {
    return new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const graceful = Graceful.start({ timeout: 10_000 });
const pool = new DatabasePool();
graceful.onShutdown(
  async () => {
    await pool.end();
    console.log('database pool closed');
  },
  { name: 'database pool' },
);

const server = http.createServer(async (request, response) => {
  if (request.url === '/ready') {
    response.statusCode = graceful.isReady ? 200 : 503;
    response.end(graceful.isReady ? 'ready\n' : 'shutting down\n');
    return;
  }
  if (request.url === '/live') {
    response.end('alive\n');
    return;
  }
  const result = await pool.query('select 1');
  response.end(`${JSON.stringify(result)}\n`);
});
// The terminator attaches before listening, so it sees every connection; registered after the
// pool, its hook runs first: stop taking requests and finish the ones in flight, then the pool.
const terminator = createTerminator(server, { timeout: 8000 });
graceful.onShutdown(
  async () => {
    const report = await terminator.terminate();
    console.log(`http server closed: ${JSON.stringify(report)}`);
  },
  { name: 'http server' },
);

graceful.on('shutdown', (reason) => console.log(`shutting down (${reason.kind})`));
graceful.on('exit', (code) => console.log(`exiting with ${code}`));

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port} (pid ${process.pid})`);
});
