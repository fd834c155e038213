'use strict';

const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '../../../..');

/**
 * The libraries compared, in report order. `bare` (no library) is the CPU and memory baseline;
 * `destroy-all` the least work closing idle sockets can take.
 */
const ADAPTERS = {
  lastcall: require('./lastcall'),
  'http-terminator': require('./http-terminator'),
  stoppable: require('./stoppable'),
  'http-shutdown': require('./http-shutdown'),
  'http-graceful-shutdown': require('./http-graceful-shutdown'),
  'node-core': require('./node-core'),
  bare: require('./bare'),
  'destroy-all': require('./destroy-all'),
  'destroy-batched': require('./destroy-batched'),
  'lastcall-idle-grace-0': require('./lastcall-idle-grace-0'),
};

/** Baselines, not libraries: run only by the scenarios that name them. */
const BASELINES = ['bare', 'destroy-all', 'destroy-batched', 'lastcall-idle-grace-0'];

const LIBRARY_NAMES = Object.keys(ADAPTERS).filter((name) => !BASELINES.includes(name));

function getAdapter(name) {
  const adapter = ADAPTERS[name];
  if (!adapter) {
    throw new Error(
      `unknown library "${name}"; expected one of ${Object.keys(ADAPTERS).join(', ')}`,
    );
  }
  return adapter;
}

/** null when the library can run a scenario over `protocol`, else the reason it cannot. */
function unsupportedReason(name, protocol) {
  const adapter = getAdapter(name);
  if (adapter.protocols.includes(protocol)) return null;
  return `${protocol}: ${adapter.unsupportedReason}`;
}

/** The installed version of the library, from its package.json (Node's own for node-core). */
function libraryVersion(name) {
  const adapter = getAdapter(name);
  if (!adapter.packageName) return process.version;
  try {
    const manifest = path.join(REPO_ROOT, 'node_modules', adapter.packageName, 'package.json');
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

module.exports = { LIBRARY_NAMES, BASELINES, getAdapter, unsupportedReason, libraryVersion };
