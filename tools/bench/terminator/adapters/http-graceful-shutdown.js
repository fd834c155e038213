'use strict';

// http-graceful-shutdown 4: gracefulShutdown(server, options) returns a function that starts the
// shutdown by hand. `signals: ''` installs no signal handler and `forceExit: false` keeps it from
// calling process.exit(); the returned promise settles once server.close() has completed.
// Its README lists http2 among supported servers.

module.exports = {
  name: 'http-graceful-shutdown',
  packageName: 'http-graceful-shutdown',
  driven: "`gracefulShutdown(server, { signals: '', timeout: grace, forceExit: false })()`",
  protocols: ['http', 'https', 'h2c'],
  attach(server, { graceMs }) {
    const gracefulShutdown = require('http-graceful-shutdown');
    const shutdown = gracefulShutdown(server, { signals: '', timeout: graceMs, forceExit: false });
    return { terminate: () => shutdown() };
  },
};
