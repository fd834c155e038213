'use strict';
/**
 * http-shutdown's second README form, `extend()`, moved to @lastcall/terminator
 * (docs/migrating/http-shutdown-server-destroy-killable.md). Only the require changed.
 * Run it with `node examples/migrating/http-shutdown/http-shutdown-extend.js`; PORT picks the
 * port. SIGTERM calls `server.shutdown()` (the README calls it "sometime later").
 */
const http = require('node:http');
require('@lastcall/terminator').withShutdown.extend(); // was: require('http-shutdown').extend()

const app = (req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.end('Good job!'), Math.min(ms, 10_000));
};

const server = http.createServer(app).withShutdown(); // unchanged
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');

process.once('SIGTERM', () => {
  server.shutdown((err) => {
    if (err) return console.log('shutdown failed', err.message);
    console.log('Everything is cleanly shutdown.');
  });
});
