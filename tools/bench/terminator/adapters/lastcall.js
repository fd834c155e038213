'use strict';

// @lastcall/terminator, driven exactly as its README shows. `onUpgrade` is passed only in the
// WebSocket scenario, where it sends close 1001 (Going Away) to each client.

module.exports = {
  name: 'lastcall',
  packageName: '@lastcall/terminator',
  driven:
    '`createTerminator(server, { timeout: grace })`, `terminate()`; S8 adds `onUpgrade` → `ws.close(1001)`',
  protocols: ['http', 'https', 'h2c'],
  attach(server, { graceMs, onUpgrade }) {
    const { createTerminator } = require('@lastcall/terminator');
    const options = onUpgrade ? { timeout: graceMs, onUpgrade } : { timeout: graceMs };
    const terminator = createTerminator(server, options);
    return { terminate: () => terminator.terminate() };
  },
};
