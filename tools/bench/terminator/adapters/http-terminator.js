'use strict';

// http-terminator 3: createHttpTerminator({ server, gracefulTerminationTimeout }).terminate().
// Its README covers http.Server and https.Server only; its drain loop tests
// `socket.server instanceof http.Server`, which an Http2Server is not.

module.exports = {
  name: 'http-terminator',
  packageName: 'http-terminator',
  driven: '`createHttpTerminator({ server, gracefulTerminationTimeout: grace }).terminate()`',
  protocols: ['http', 'https'],
  unsupportedReason: 'documents http.Server and https.Server only',
  attach(server, { graceMs }) {
    const { createHttpTerminator } = require('http-terminator');
    const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: graceMs });
    return { terminate: () => terminator.terminate() };
  },
};
