'use strict';
/**
 * server-destroy's README example, moved to @lastcall/terminator
 * (docs/migrating/http-shutdown-server-destroy-killable.md): `enableDestroy(server)` is
 * `withShutdown(server)`, and `server.destroy()` is `server.shutdown()`, which lets the
 * requests in flight finish (`server.forceShutdown()` cuts them, as destroy() did).
 * Run it with `node examples/migrating/http-shutdown/server-destroy.js`; PORT picks the port.
 */
const http = require('node:http');
const { withShutdown } = require('@lastcall/terminator'); // was: require('server-destroy')

const server = http.createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.end('ok\n'), Math.min(ms, 10_000));
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');

// enhance with a 'shutdown' function (was: enableDestroy(server))
withShutdown(server);

// some time later...
process.once('SIGTERM', () => {
  server.shutdown(); // was: server.destroy()
});
