'use strict';

// A baseline, not a library: the least work closing idle sockets can take. It closes the
// listener, then destroys every socket in one synchronous loop, protecting no request. Measured
// beside the libraries on the idle-socket scenarios (S1-10k, the scale curves) to show the limit
// the machine sets, the clients sharing its cores. `destroyBaseline` also makes destroy-batched.

const net = require('node:net');
const { performance } = require('node:perf_hooks');

/**
 * A baseline adapter that closes the listener, then destroys the server's sockets: in one loop,
 * or, with `batchMs`, in batches that hold the loop at most that long, one setImmediate apart.
 */
function destroyBaseline({ name, driven, batchMs = Infinity }) {
  return {
    name,
    packageName: null,
    driven,
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
              const deadline = performance.now() + batchMs;
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
}

module.exports = destroyBaseline({
  name: 'destroy-all',
  driven:
    'baseline, not a library: `net.Server#close()`, then `socket.destroy()` on every socket in one loop',
});
module.exports.destroyBaseline = destroyBaseline;
