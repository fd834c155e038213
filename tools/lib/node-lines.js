'use strict';

/**
 * The Node.js lines lastcall supports, the exact version of each that the test matrix runs, and
 * how a version's binary is brought here: the npm registry ships every Node release as the
 * package `node-<platform>-<arch>` (bin/node inside), so `npm pack` fetches it with the same
 * registry and credentials as `npm install`, and it is unpacked once into a cache folder.
 *
 * Bump a pin here (and in docs/node-support.md) when a line ships a release that matters.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { npmChildEnv } = require('./npm-env');

/**
 * A supported Node.js line, and the release of it the matrix runs.
 * @typedef {{ major: number, version: string, status: string }} NodeLine
 */

/** @type {readonly NodeLine[]} */
const NODE_LINES = Object.freeze([
  Object.freeze({ major: 22, version: '22.23.5', status: 'maintenance LTS' }),
  Object.freeze({ major: 24, version: '24.22.3', status: 'maintenance LTS' }),
  Object.freeze({ major: 26, version: '26.12.1', status: 'active LTS' }),
]);

/** The oldest Node.js the packages declare in `engines` (and the machine's line in CI). */
const OLDEST_SUPPORTED = '20.19.0';

/**
 * The folder the Node binaries are unpacked into: `LASTCALL_NODE_CACHE`, else `.cache/node` in
 * the repo (listed in .gitignore).
 * @param {string} root the repo's root folder
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
function cacheDir(root, env = process.env) {
  const given = env['LASTCALL_NODE_CACHE'];
  return given !== undefined && given !== ''
    ? path.resolve(given)
    : path.join(root, '.cache', 'node');
}

/**
 * The registry package that ships Node's binary for this machine.
 * @param {NodeJS.Platform} [platform]
 * @param {string} [arch]
 * @returns {string}
 */
function binaryPackage(platform = process.platform, arch = process.arch) {
  return `node-${platform}-${arch}`;
}

/**
 * The path of `version`'s node binary in the cache; fetched and unpacked first when it is not
 * there yet. Throws with the npm or tar output when the fetch fails, and when the unpacked binary
 * does not report the version it was pinned to.
 * @param {string} version e.g. '26.12.1'
 * @param {string} cache the folder from {@link cacheDir}
 * @returns {string}
 */
function ensureNodeBinary(version, cache) {
  const home = path.join(cache, version);
  const binary = path.join(home, 'package', 'bin', 'node');
  if (reportsVersion(binary, version)) return binary;

  // Readable by every user: tests run processes as a second user (packages/lastcall's run-folder
  // test), and a Node binary is no secret.
  fs.mkdirSync(cache, { recursive: true, mode: 0o755 });
  // Unpack into a private temp folder first and rename it into place, so that an interrupted
  // fetch never leaves a half-written binary where the next run would trust it.
  const staging = fs.mkdtempSync(path.join(cache, `.${version}-`));
  fs.chmodSync(staging, 0o755);
  try {
    const spec = `${binaryPackage()}@${version}`;
    const tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', staging], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: npmChildEnv(),
    })
      .trim()
      .split('\n')
      .pop();
    if (tarball === undefined || tarball === '') throw new Error(`npm pack ${spec} named no file`);
    execFileSync('tar', ['xzf', path.join(staging, tarball), '-C', staging], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    fs.rmSync(path.join(staging, tarball), { force: true });
    fs.rmSync(home, { recursive: true, force: true });
    fs.renameSync(staging, home);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    const output =
      error && typeof error === 'object' && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`could not fetch Node ${version}: ${String(error)}\n${output}`.trim(), {
      cause: error,
    });
  }
  if (!reportsVersion(binary, version)) {
    throw new Error(`${binary} does not report v${version} after unpacking`);
  }
  return binary;
}

/**
 * True when `binary` runs here and prints `v<version>`.
 * @param {string} binary
 * @param {string} version
 * @returns {boolean}
 */
function reportsVersion(binary, version) {
  try {
    const printed = execFileSync(binary, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return printed.trim() === `v${version}`;
  } catch {
    return false;
  }
}

/**
 * The environment of a process that must run on `binary` throughout: its folder first on PATH
 * (so `node`, and npm's `#!/usr/bin/env node`, find it) and npm's own pointers at it.
 * @param {string} binary
 * @param {NodeJS.ProcessEnv} [base]
 * @returns {NodeJS.ProcessEnv}
 */
function envForNode(binary, base = process.env) {
  const env = { ...base };
  env['PATH'] = [path.dirname(binary), base['PATH'] ?? '']
    .filter((part) => part !== '')
    .join(path.delimiter);
  env['NODE'] = binary;
  env['npm_node_execpath'] = binary;
  return env;
}

/**
 * The lines the matrix runs besides the machine's own Node: every pinned line whose major differs
 * from `currentVersion`'s (the machine's line runs the whole suite anyway).
 * @param {string} currentVersion e.g. process.versions.node
 * @param {readonly NodeLine[]} [lines]
 * @returns {NodeLine[]}
 */
function otherLines(currentVersion, lines = NODE_LINES) {
  const currentMajor = Number(currentVersion.split('.')[0]);
  return lines.filter((line) => line.major !== currentMajor);
}

module.exports = {
  NODE_LINES,
  OLDEST_SUPPORTED,
  binaryPackage,
  cacheDir,
  ensureNodeBinary,
  envForNode,
  otherLines,
};
