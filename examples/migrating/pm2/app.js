'use strict';
/**
 * pm2's graceful-start example, moved to lastcall (docs/migrating/pm2.md). Two changes:
 * `process.send('ready')` is `ready()` (pm2's `wait_ready` is `readyOn: 'message'` in
 * lastcall.config.js), and the SIGINT handler is a graceful hook: the worker runtime drains the
 * server by itself, then runs the hook.
 *
 * Run it with `node packages/lastcall/dist/cli.js start app.js` in this folder (it reads
 * lastcall.config.js); PORT picks the port (default 3000).
 */
const http = require('node:http');
const { Graceful, ready } = require('lastcall');

const port = Number(process.env.PORT ?? 3000);

// Stands in for the app's database: opened before the server is ready, closed last.
const db = {
  connect: (callback) => setTimeout(callback, 50),
  stop: (callback) => setTimeout(callback, 50),
};

const app = http.createServer((req, res) => {
  res.end(`hello from ${String(process.pid)}\n`);
});

db.connect(() => {
  app.listen(port, '127.0.0.1', () => {
    ready(); // was: process.send('ready')
  });
});

// was: process.on('SIGINT', () => db.stop((err) => process.exit(err ? 1 : 0)))
Graceful.start().onShutdown(
  () =>
    new Promise((resolve, reject) => {
      db.stop((error) => (error ? reject(error) : resolve()));
    }),
  { name: 'database' },
);
