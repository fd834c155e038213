'use strict';
/**
 * stoppable's README example, moved to @lastcall/terminator
 * (docs/migrating/http-terminator-and-stoppable.md): `server.stop(cb)` becomes `terminate()`,
 * the grace period its `timeout`. Run it with
 * `node examples/migrating/http-terminator-stoppable/stoppable.js`; PORT picks the port.
 */
const http = require('node:http');
const { createTerminator } = require('@lastcall/terminator'); // was: require('stoppable')

const handler = (req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.end(`done after ${String(ms)} ms\n`), Math.min(ms, 10_000));
};

// was: const server = stoppable(http.createServer(handler), 10000);
const server = http.createServer(handler);
const terminator = createTerminator(server, { timeout: 10_000 });

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');

process.once('SIGTERM', () => {
  // was: server.stop((error, isGraceful) => { ... })
  void terminator.terminate().then((report) => {
    console.log(report.graceful ? 'stopped gracefully' : `forced ${String(report.forced)}`);
  });
});
