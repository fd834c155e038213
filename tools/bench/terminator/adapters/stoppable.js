'use strict';

// stoppable 1: stoppable(server, grace) decorates the server; server.stop(cb) calls back with
// (error, gracefully) once server.close() has completed.

module.exports = {
  name: 'stoppable',
  packageName: 'stoppable',
  driven: '`stoppable(server, grace)`, `server.stop(cb)`',
  protocols: ['http', 'https'],
  unsupportedReason: 'documents http and https servers only',
  attach(server, { graceMs }) {
    const stoppable = require('stoppable');
    stoppable(server, graceMs);
    return {
      terminate: () =>
        new Promise((resolve) => {
          server.stop((error, gracefully) => resolve({ gracefully, error: error && error.code }));
        }),
    };
  },
};
