'use strict';

const path = require('node:path');

/** The libraries compared, in report order. `bare` is only the CPU baseline. */
const ADAPTERS = {
  lastcall: require('./lastcall'),
  'http-terminator': require('./http-terminator'),
  stoppable: require('./stoppable'),
  'http-shutdown': require('./http-shutdown'),
  'http-graceful-shutdown': require('./http-graceful-shutdown'),
  'node-core': require('./node-core'),
  bare: require('./bare'),
};

const LIBRARY_NAMES = Object.keys(ADAPTERS).filter((name) => name !== 'bare');

function getAdapter(name) {
  const adapter = ADAPTERS[name];
  if (!adapter) {
    throw new Error(`unknown library "${name}"; expected one of ${Object.keys(ADAPTERS).join(', ')}`);
  }
  return adapter;
}

/** null when the library can run a scenario over `protocol`, else the reason it cannot. */
function unsupportedReason(name, protocol) {
  const adapter = getAdapter(name);
  if (adapter.protocols.includes(protocol)) return null;
  return `${protocol}: ${adapter.unsupportedReason}`;
}

/** The installed version of the library, read from its package.json (Node's for node-core). */
function libraryVersion(name) {
  const adapter = getAdapter(name);
  if (!adapter.packageName) return `node ${process.version}`;
  const entry = require.resolve(adapter.packageName);
  let dir = path.dirname(entry);
  for (;;) {
    try {
      const pkg = require(path.join(dir, 'package.json'));
      if (pkg.name === adapter.packageName) return pkg.version;
    } catch {
      // not this folder; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

module.exports = { LIBRARY_NAMES, getAdapter, unsupportedReason, libraryVersion };
