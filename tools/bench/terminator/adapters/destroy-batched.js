'use strict';

// A baseline, not a library: the least work closing idle sockets can take when the event loop
// may be held at most 8 ms at a time, as lastcall holds it. It closes the listener, then destroys
// the sockets in batches of at most 8 ms, one setImmediate apart, protecting no request. Between
// two batches Node runs the close callbacks of the sockets already destroyed (the http server's
// and the app's 'close' listeners), work that a library destroying every socket in one loop
// leaves for after its own close. It shows what bounding the loop block costs on this machine.

const { destroyBaseline } = require('./destroy-all');

module.exports = destroyBaseline({
  name: 'destroy-batched',
  driven:
    'baseline, not a library: `net.Server#close()`, then `socket.destroy()` on every socket in batches of at most 8 ms, one `setImmediate` apart',
  batchMs: 8,
});
