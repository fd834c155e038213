'use strict';
/**
 * cluster2's README example (examples/express/express-server.js: an Express app behind its ECV
 * heartbeat), moved to @lastcall/master (docs/migrating/cluster2.md). The changes are the ones
 * the page names, each marked `was:`. One file is master and worker, as with node:cluster.
 *
 * Run it with `node examples/migrating/cluster2/express-server.js`; PORT picks the app's port
 * (default 3000), HEARTBEAT_PORT the heartbeat's (default 3001), LASTCALL_WORKERS the worker count.
 * `kill -USR2 <pid>` restarts the workers one at a time; `kill <pid>` drains them and exits 0.
 *
 *   GET  /                                   hello
 *   GET  /config                             a cluster2 delegation to the master, answered
 *   GET  HEARTBEAT_PORT/ecv                  cluster2's ECV text
 *   POST HEARTBEAT_PORT/ecv/disable, enable  out of rotation and back
 */
const cluster = require('node:cluster');
const path = require('node:path');
const express = require('express');
const { Master } = require('@lastcall/master'); // was: var Cluster = require('cluster2')

const port = Number(process.env.PORT ?? 3000);

if (cluster.isPrimary) {
  // was: var c = new Cluster({ port: 3000, cluster: true, timeout: 500, ecv: { ... } })
  const c = new Master({
    readyOn: { port }, // was: port: 3000 (the worker listens itself, below)
    idleTimeout: 500, // was: timeout: 500
    recycle: { maxConnectionsServed: 10_000 }, // was: connThreshold (default 10000)
    pidDir: path.join(process.cwd(), 'pids'), // was: always <cwd>/pids
    heartbeat: {
      port: Number(process.env.HEARTBEAT_PORT ?? 3001), // was: the app's port
      path: '/ecv',
      format: 'cluster2', // cluster2's text and codes, for the load balancer's existing check
      monitor: '/', // was: monitor: '/'
      // was: control: true; POST /ecv/disable and /ecv/enable are always on (loopback, or a token)
    },
  });

  c.on('exit', ({ pid }) => {
    console.log(`Worker ${String(pid)} died`); // was: c.on('died', function (pid) { ... })
  });
  c.on('fork', ({ pid }) => {
    console.log(`Worker ${String(pid)} forked`); // was: c.on('forked', function (pid) { ... })
  });

  // cluster2 0.4's delegation: the master reads the config once for every worker.
  // was: c.on('read-config', ...), answered by emitting 'config-read'
  c.handle('read-config', ({ config }) => ({ value: `settings of ${String(config)}` }));

  c.start().catch((error) => {
    console.error(error.message); // which worker failed to start, its exit code and stderr
    process.exit(1);
  });
} else {
  const app = express(); // was: express.createServer() (Express 2)

  // was: `serving` set false on 'close', and req.connection.end() once it was: the worker
  // runtime now closes keep-alive sockets after the response on a drain.
  app.get('/', (req, res) => {
    res.send('hello');
  });

  // A worker's raw cluster2 delegation, unchanged: lastcall's master answers it.
  app.get('/config', (req, res) => {
    const onAnswer = (message) => {
      if (message?.type !== 'config-read' || message.config !== 'app') return;
      process.off('message', onAnswer);
      res.json(message);
    };
    process.on('message', onAnswer);
    process.send({
      type: 'delegate',
      delegate: 'read-config',
      expect: 'config-read',
      matches: ['config'],
      timeout: 5000,
      config: 'app',
    });
  });

  app.listen(port, '127.0.0.1'); // was: c.listen(function (cb) { cb(app, monApp); })
}
