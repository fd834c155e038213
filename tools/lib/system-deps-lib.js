'use strict';

/**
 * The system tools the test suites drive, and the Debian packages that bring them. `npm test`
 * checks for them first (tools/system-deps.js) so that no suite fails, or is skipped, halfway
 * through because a command is missing.
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * One command a suite runs, the Debian package that installs it, and who needs it.
 * @typedef {{ command: string, debianPackage: string, usedBy: string }} SystemTool
 */

/** @type {readonly SystemTool[]} */
const SYSTEM_TOOLS = Object.freeze([
  Object.freeze({
    command: 'siege',
    debianPackage: 'siege',
    usedBy: 'packages/express/test/cluster.integration.test.ts (crashes under siege)',
  }),
  Object.freeze({
    command: 'ab',
    debianPackage: 'apache2-utils',
    usedBy: 'packages/express/test/cluster.integration.test.ts (crashes under ab)',
  }),
  Object.freeze({
    command: 'ip',
    debianPackage: 'iproute2',
    usedBy: 'packages/master/test/heartbeat-network.integration.test.ts (a second host in a netns)',
  }),
  Object.freeze({
    command: 'curl',
    debianPackage: 'curl',
    usedBy: 'packages/lastcall/test/demo.integration.test.ts (the curl lines the demo prints)',
  }),
  Object.freeze({
    command: 'haproxy',
    debianPackage: 'haproxy',
    usedBy:
      'packages/lastcall/test/multi-host.e2e.test.ts (HAProxy 2.6 in front of two hosts, run in the foreground with its own configuration)',
  }),
  Object.freeze({
    command: 'nginx',
    debianPackage: 'nginx',
    usedBy:
      'packages/lastcall/test/multi-host-nginx.e2e.test.ts (nginx with upstream keepalive in front of two hosts, run in the foreground with its own configuration)',
  }),
  Object.freeze({
    command: 'tini',
    debianPackage: 'tini',
    usedBy:
      "packages/lastcall/test/kubernetes.e2e.test.ts (PID 1 of a pod's PID namespace, as docs/kubernetes.md's Dockerfile has it)",
  }),
]);

/**
 * Debian starts these services when their package is installed; the suites run their own, in
 * the foreground with their own configuration, so the system's copies are stopped again.
 */
const SERVICES_TO_STOP = Object.freeze(['haproxy', 'nginx']);

/**
 * The absolute path of `command` on `searchPath` (a PATH value), or undefined when no folder of
 * it holds an executable file of that name.
 * @param {string} command
 * @param {string} searchPath
 * @returns {string | undefined}
 */
function findOnPath(command, searchPath) {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here (or not executable): the next folder of PATH
    }
  }
  return undefined;
}

/**
 * The tools of `tools` that are not on `searchPath`.
 * @param {readonly SystemTool[]} tools
 * @param {string} searchPath
 * @returns {SystemTool[]}
 */
function findMissing(tools, searchPath) {
  return tools.filter((tool) => findOnPath(tool.command, searchPath) === undefined);
}

/**
 * The Debian packages that bring `missing`, each once, in order.
 * @param {readonly SystemTool[]} missing
 * @returns {string[]}
 */
function debianPackages(missing) {
  return [...new Set(missing.map((tool) => tool.debianPackage))];
}

/**
 * The exact command that installs `missing`, as a person would type it.
 * @param {readonly SystemTool[]} missing
 * @param {boolean} isRoot
 * @returns {string}
 */
function installCommand(missing, isRoot) {
  const sudo = isRoot ? '' : 'sudo ';
  const packages = debianPackages(missing).join(' ');
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages}`;
}

/**
 * What to do about `missing`: nothing, install them (root with apt-get, unless installing is
 * off), or stop with the command that would.
 * @param {readonly SystemTool[]} missing
 * @param {{ isRoot: boolean, hasAptGet: boolean, mayInstall: boolean }} machine
 * @returns {{ action: 'none' } | { action: 'install', packages: string[] } | { action: 'stop', line: string }}
 */
function planInstall(missing, machine) {
  if (missing.length === 0) return { action: 'none' };
  const names = missing.map((tool) => `${tool.command} (${tool.debianPackage})`).join(', ');
  if (!machine.hasAptGet) {
    return {
      action: 'stop',
      line: `system-deps: missing ${names}, and apt-get is not on this machine: install the Debian packages ${debianPackages(missing).join(' ')} or their equivalent, then run npm test again`,
    };
  }
  if (!machine.isRoot || !machine.mayInstall) {
    return {
      action: 'stop',
      line: `system-deps: missing ${names}; run: ${installCommand(missing, machine.isRoot)}`,
    };
  }
  return { action: 'install', packages: debianPackages(missing) };
}

module.exports = {
  SERVICES_TO_STOP,
  SYSTEM_TOOLS,
  debianPackages,
  findMissing,
  findOnPath,
  installCommand,
  planInstall,
};
