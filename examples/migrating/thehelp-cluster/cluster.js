'use strict';
/**
 * thehelp-cluster's README example, moved to lastcall (docs/migrating/thehelp-cluster.md).
 * The one change: the require. Run it with `node examples/migrating/thehelp-cluster/cluster.js`;
 * PORT picks the port (default 3000), THEHELP_NUMBER_WORKERS the worker count.
 * `kill -USR2 <pid>` restarts the workers one at a time; `kill <pid>` drains them and exits 0.
 */
const cluster = require('lastcall'); // was: require('thehelp-cluster')

cluster.setupLogs();

// creates a Graceful instance for the process - the master and GracefulExpress use it
cluster.Graceful.start();

cluster({
  worker() {
    const server = require('./server');
    server.start();
  },
});
