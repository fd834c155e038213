'use strict';

// A baseline, not a library: @lastcall/terminator with `idleGrace: 0`, which closes a socket the
// moment its last response finishes, with no quiet period for a client's next request already
// on the wire. Measured beside lastcall in S2 (busy keep-alive clients) and S4 (streaming
// responses that promised keep-alive) to show what the default 20 ms grace costs and buys.

module.exports = {
  name: 'lastcall-idle-grace-0',
  packageName: null,
  driven:
    'baseline, not a library: lastcall with `createTerminator(server, { timeout: grace, idleGrace: 0 })`',
  protocols: ['http'],
  unsupportedReason: 'a baseline for S2 and S4 only',
  attach(server, { graceMs }) {
    const { createTerminator } = require('@lastcall/terminator');
    const terminator = createTerminator(server, { timeout: graceMs, idleGrace: 0 });
    return { terminate: () => terminator.terminate() };
  },
};
