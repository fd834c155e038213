'use strict';

// A baseline, not a library: the least work closing idle sockets can take when the event loop
// may be held at most 8 ms at a time, as lastcall holds it. It closes the listener, then destroys
// the sockets in batches of at most 8 ms, one setImmediate apart, protecting no request. Between
// two batches Node runs the close callbacks of the sockets already destroyed (the http server's
// and the app's 'close' listeners), work that a library destroying every socket in one loop
// leaves for after its own close. It shows what bounding the loop block costs on this machine.

const net = require('node:net');
const { performance } = require('node:perf_hooks');

const BATCH_MS = 8;

module.exports = {
  name: 'destroy-batched',
  packageName: null,
  driven:
    'baseline, not a library: `net.Server#close()`, then `socket.destroy()` on every socket in batches of at most 8 ms, one `setImmediate` apart',
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
          const list = [...sockets];
          let index = 0;
          const batch = () => {
            const deadline = performance.now() + BATCH_MS;
            while (index < list.length) {
              list[index].destroy();
              index += 1;
              if (index % 16 === 0 && performance.now() >= deadline) break;
            }
            if (index < list.length) setImmediate(batch);
          };
          batch();
        }),
    };
  },
};
