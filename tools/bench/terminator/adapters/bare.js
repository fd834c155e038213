'use strict';

// No shutdown library at all: the baseline of the steady-state CPU measurement.

module.exports = {
  name: 'bare',
  packageName: null,
  driven: 'nothing attached (CPU baseline only)',
  protocols: ['http', 'https', 'h2c'],
  attach(server) {
    return {
      terminate: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
};
