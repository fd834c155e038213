'use strict';

// Node core with no library: server.close(), then at the grace deadline
// server.closeAllConnections() (http/https). Http2Server has no closeAllConnections() and its
// close() (Node 20) neither sends GOAWAY nor closes sessions, so for h2c the deadline destroys the
// sessions collected from the 'session' event: the least code a user must write.

module.exports = {
  name: 'node-core',
  packageName: null,
  driven:
    '`server.close(cb)`; at the deadline `server.closeAllConnections()` (h2c: `session.destroy()` for each session)',
  protocols: ['http', 'https', 'h2c'],
  attach(server, { graceMs }) {
    const sessions = new Set();
    server.on('session', (session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    return {
      terminate: () =>
        new Promise((resolve) => {
          const deadline = setTimeout(() => {
            if (typeof server.closeAllConnections === 'function') {
              server.closeAllConnections();
            } else {
              for (const session of sessions) session.destroy();
            }
          }, graceMs);
          server.close(() => {
            clearTimeout(deadline);
            resolve();
          });
        }),
    };
  },
};
