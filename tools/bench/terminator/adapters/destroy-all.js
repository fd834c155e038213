'use strict';

// A baseline, not a library: the least work closing idle sockets can take. It closes the
// listener, then destroys every socket in one synchronous loop, protecting no request. Measured
// beside the libraries on the idle-socket scenarios (S1-10k, the scale curves) to show the limit
// the machine sets, the clients sharing its cores.

const net = require('node:net');

module.exports = {
  name: 'destroy-all',
  packageName: null,
  driven:
    'baseline, not a library: `net.Server#close()`, then `socket.destroy()` on every socket in one loop',
  protocols: ['http'],
  unsupportedReason: 'a baseline for the idle-socket scenarios only',
  attach(server) {
    const sockets = new Set();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return {
      terminate: () =>
        new Promise((resolve) => {
          net.Server.prototype.close.call(server, () => resolve());
          for (const socket of sockets) socket.destroy();
        }),
    };
  },
};
