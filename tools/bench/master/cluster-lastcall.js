'use strict';
// The same workers under @lastcall/master (defaults: health pings, the worker runtime).
// Prints `ready` when started.
const path = require('node:path');
const { Master } = require('@lastcall/master');

const master = new Master({
  exec: path.join(__dirname, 'hello-server.js'),
  workers: Number(process.env.WORKERS ?? 2),
  logger: {
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error: console.error,
    fatal: console.error,
    child() {
      return this;
    },
  },
});
master.start().then(
  () => process.stdout.write('ready\n'),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);
