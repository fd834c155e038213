'use strict';
/**
 * killable's README example, moved to @lastcall/terminator
 * (docs/migrating/http-shutdown-server-destroy-killable.md): `killable(server)` is
 * `withShutdown(server)`, and `server.kill(cb)` is `server.shutdown(cb)`: the response that
 * announces the shutdown, and every other request in flight, still reach their clients.
 * Run it with `node examples/migrating/http-shutdown/killable.js`; PORT picks the port
 * (default 8080). GET /slow?ms=2000 answers late; GET / takes the server down.
 */
const express = require('express');
const { withShutdown } = require('@lastcall/terminator'); // was: require('killable')

const app = express();
let server;

app.get('/slow', (req, res) => {
  setTimeout(() => res.send('slow and done'), Math.min(Number(req.query.ms ?? 0), 10_000));
});

app.get('/', (req, res) => {
  res.send('Server is going down NOW!');

  server.shutdown(() => {
    // was: server.kill(() => { ... })
    // the server is down when this is called: every request in flight has been answered.
  });
});

server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
withShutdown(server); // was: killable(server)
