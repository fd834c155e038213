'use strict';

// http-shutdown 1: require('http-shutdown')(server) adds server.shutdown(cb) and
// server.forceShutdown(cb). It has no grace period of its own, so we do what its users do:
// call shutdown(), and forceShutdown() if the server has not closed when the grace expires.
// We resolve on shutdown()'s callback, i.e. when the server has really closed.

module.exports = {
  name: 'http-shutdown',
  packageName: 'http-shutdown',
  driven:
    "`require('http-shutdown')(server)`, `server.shutdown(cb)`; `server.forceShutdown()` at the grace deadline (it has no timeout)",
  protocols: ['http', 'https'],
  unsupportedReason: 'documents Node HTTP servers only',
  attach(server, { graceMs }) {
    require('http-shutdown')(server);
    return {
      terminate: () =>
        new Promise((resolve) => {
          const deadline = setTimeout(() => server.forceShutdown(() => {}), graceMs);
          server.shutdown((error) => {
            clearTimeout(deadline);
            resolve({ error: error && error.code });
          });
        }),
    };
  },
};
