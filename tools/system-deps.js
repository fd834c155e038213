'use strict';

/**
 * The first step of `npm test`: makes sure the system tools the suites drive (siege, ab, ip,
 * curl, haproxy, nginx, tini; see tools/lib/system-deps-lib.js) are on PATH. Run as root with apt-get, it installs the missing
 * Debian packages itself; otherwise it stops at once (exit 1) with one line naming the exact
 * command to run. No suite is skipped because a tool is missing.
 *
 * Usage: node tools/system-deps.js [--check]   (--check: never install, only report)
 */
const { spawnSync } = require('node:child_process');
const {
  SERVICES_TO_STOP,
  SYSTEM_TOOLS,
  findMissing,
  findOnPath,
  installCommand,
  planInstall,
} = require('./lib/system-deps-lib');

const searchPath = () => process.env.PATH ?? '';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const checkOnly = process.argv.includes('--check');

const missing = findMissing(SYSTEM_TOOLS, searchPath());
const plan = planInstall(missing, {
  isRoot,
  mayInstall: !checkOnly,
  hasAptGet: findOnPath('apt-get', searchPath()) !== undefined,
});

if (plan.action === 'none') {
  console.log(`system-deps: ${SYSTEM_TOOLS.map((tool) => tool.command).join(', ')} found`);
} else if (plan.action === 'stop') {
  console.error(plan.line);
  process.exitCode = 1;
} else {
  console.log(`system-deps: installing ${plan.packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...plan.packages],
  ];
  let failed = false;
  for (const args of steps) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      failed = true;
      break;
    }
  }
  const stillMissing = findMissing(SYSTEM_TOOLS, searchPath());
  if (failed || stillMissing.length > 0) {
    const names = (stillMissing.length > 0 ? stillMissing : missing)
      .map((tool) => tool.command)
      .join(', ');
    console.error(
      `system-deps: apt-get could not install ${names}; run: ${installCommand(stillMissing.length > 0 ? stillMissing : missing, true)}`,
    );
    process.exitCode = 1;
  } else {
    console.log(`system-deps: installed ${plan.packages.join(' ')}`);
    stopServices();
  }
}

/**
 * Stops (and disables) the system services their packages started: the suites run their own
 * haproxy and nginx. Best effort: a container without an init system started none.
 */
function stopServices() {
  for (const service of SERVICES_TO_STOP) {
    if (findOnPath(service, searchPath()) === undefined) continue;
    if (findOnPath('systemctl', searchPath()) !== undefined) {
      spawnSync('systemctl', ['disable', '--now', service], { stdio: 'ignore' });
    }
    if (findOnPath('service', searchPath()) !== undefined) {
      spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
    }
  }
}
