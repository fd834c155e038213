'use strict';

// The self-signed certificate for 127.0.0.1/localhost that the terminator's own tests use.

const fs = require('node:fs');
const path = require('node:path');

const TLS_DIR = path.resolve(__dirname, '../../../../packages/terminator/test/fixtures/tls');

function loadTlsFixture() {
  return {
    key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
    cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
  };
}

module.exports = { loadTlsFixture };
