'use strict';
/**
 * dutch-master's example master, moved to lastcall (docs/migrating/dutch-master.md).
 * Run it with `node examples/migrating/dutch-master/master.js`; PORT picks the workers' port
 * (default 3000). `kill -USR2 <pid>` is a rolling restart, as it was; `kill <pid>` drains
 * every worker and exits 0.
 */
const os = require('node:os');
const path = require('node:path');
const bunyan = require('bunyan');
const { Master } = require('@lastcall/master'); // was: require('dutch-master')

new Master({
  exec: path.join(__dirname, 'app.js'), // was: worker: 'app.js'
  beforeFork() {
    process.chdir(__dirname); // was: process.chdir('/deploys/app/current')
  },
  workers: () => Math.min(os.cpus().length, 2), // was: numWorkers
  logger: bunyan({ name: 'my-app' }),
  env: { NODE_ENV: 'production' }, // was: workerEnvironment
})
  .start() // was: .start() on the module, with the options
  .catch((error) => {
    console.error(error.message); // which worker failed to start, its exit code and stderr
    process.exit(1);
  });
