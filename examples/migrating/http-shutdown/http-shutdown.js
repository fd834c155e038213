'use strict';
/**
 * http-shutdown's README example, moved to @lastcall/terminator
 * (docs/migrating/http-shutdown-server-destroy-killable.md). Only the require changed.
 * Run it with `node examples/migrating/http-shutdown/http-shutdown.js`; PORT picks the port.
 * SIGTERM calls `server.shutdown()` (the README calls it "sometime later").
 */
const http = require('node:http');
const { withShutdown } = require('@lastcall/terminator'); // was: require('http-shutdown')

let server = http.createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.end('Good job!'), Math.min(ms, 10_000));
});

server = withShutdown(server); // was: require('http-shutdown')(server)
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');

process.once('SIGTERM', () => {
  server.shutdown((err) => {
    if (err) return console.log('shutdown failed', err.message);
    console.log('Everything is cleanly shutdown.');
  });
});
