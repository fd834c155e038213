#!/usr/bin/env node
'use strict';
/**
 * A rolling deploy across hosts, one host at a time, the way docs/deploying.md describes it:
 *
 *   lastcall disable → wait until the balancer has taken the host out → lastcall reload
 *   → (check the version the heartbeat reports) → lastcall enable → wait until it is back in
 *
 * It is an example, not a daemon: plain Node, no dependencies, and it only talks to what is
 * already there: each host's `lastcall` command (through ssh or anything else that runs a
 * command there), HAProxy's runtime API to see what the balancer decided, and, behind nginx
 * (which has no runtime API in its open-source build), each host's heartbeat. It stops at the
 * first host whose reload fails: that host goes back into rotation with its old workers, which
 * served on, and the hosts after it are not touched.
 *
 * Usage: node deploy.js <deploy.json> [--expect-version <version>]
 *
 * deploy.json:
 *   {
 *     "balancer": { "type": "haproxy", "statsSocket": "/run/haproxy/admin.sock", "backend": "app" },
 *     "hosts": [
 *       { "server": "a", "name": "shop", "heartbeat": "http://10.0.0.2:9000",
 *         "lastcall": ["ssh", "deploy@10.0.0.2", "lastcall"] }
 *     ],
 *     "timeoutMs": 30000
 *   }
 *   balancer.type "nginx" needs no other field: the host is out when its heartbeat says 503
 *   (workers then close every kept-alive connection nginx holds) and back when it says 200.
 *   server: the host's name in the HAProxy backend. lastcall: the command, as an argument list,
 *   that runs `lastcall` on the host; `disable`, `reload` or `enable` and `--name <name>` are
 *   added. timeoutMs (default 30000): the longest wait for the balancer or a command.
 *   --expect-version: after its reload, a host's heartbeat must report this version.
 *
 * Exit codes: 0 every host deployed; 1 a host's reload failed, or its version is not the one
 * expected (that host is back in rotation, the deploy stopped there); 2 bad usage or deploy.json;
 * 3 the balancer or a command did not do what was asked in time (the host may be out of
 * rotation: the message says which).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

class DeployError extends Error {
  constructor(exitCode, message) {
    super(message);
    this.exitCode = exitCode;
  }
}

function log(line) {
  process.stdout.write(`deploy: ${line}\n`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readArguments(argv) {
  const [file, ...rest] = argv;
  if (file === undefined || file.startsWith('-')) {
    throw new DeployError(2, 'usage: node deploy.js <deploy.json> [--expect-version <version>]');
  }
  let expectVersion;
  for (let index = 0; index < rest.length; index += 1) {
    if (rest[index] === '--expect-version' && rest[index + 1] !== undefined) {
      expectVersion = rest[index + 1];
      index += 1;
    } else {
      throw new DeployError(2, `unknown argument ${JSON.stringify(rest[index])}`);
    }
  }
  let config;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DeployError(2, `cannot read ${file}: ${error.message}`);
  }
  const balancer = config.balancer ?? {};
  if (balancer.type === 'haproxy') {
    if (typeof balancer.statsSocket !== 'string' || typeof balancer.backend !== 'string') {
      throw new DeployError(2, 'balancer "haproxy" needs statsSocket and backend');
    }
  } else if (balancer.type !== 'nginx') {
    throw new DeployError(2, 'balancer.type must be "haproxy" or "nginx"');
  }
  if (!Array.isArray(config.hosts) || config.hosts.length === 0) {
    throw new DeployError(2, 'hosts must list at least one host');
  }
  for (const host of config.hosts) {
    const isValid =
      typeof host.name === 'string' &&
      typeof host.heartbeat === 'string' &&
      Array.isArray(host.lastcall) &&
      host.lastcall.length > 0 &&
      (balancer.type !== 'haproxy' || typeof host.server === 'string');
    if (!isValid) {
      throw new DeployError(
        2,
        `each host needs name, heartbeat, lastcall (and server for HAProxy): ${JSON.stringify(host)}`,
      );
    }
  }
  return { ...config, expectVersion, timeoutMs: config.timeoutMs ?? 30_000 };
}

/** Runs `lastcall <command> --name <name>` on the host; resolves with its exit code and output. */
function lastcall(host, command, timeoutMs) {
  const [file, ...args] = host.lastcall;
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args, command, '--name', host.name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new DeployError(
          3,
          `${host.label}: lastcall ${command} still running after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new DeployError(3, `${host.label}: cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** One command to HAProxy's runtime API; resolves with its answer. */
function haproxy(socketPath, command) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${command}`)));
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', (error) =>
      reject(new DeployError(3, `HAProxy ${socketPath}: ${error.message}`)),
    );
    socket.on('close', () => resolve(answer));
    socket.end(`${command}\n`);
  });
}

/**
 * Whether HAProxy routes to `server` now: `show servers state` says it is running
 * (srv_op_state 2) and not in maintenance (srv_admin_state).
 */
async function isInHaproxyRotation(balancer, server) {
  const answer = await haproxy(balancer.statsSocket, `show servers state ${balancer.backend}`);
  const lines = answer.split('\n');
  const header = lines.find((line) => line.startsWith('# '));
  if (header === undefined) throw new DeployError(3, `HAProxy answered: ${answer.trim()}`);
  const names = header.slice(2).split(' ');
  for (const line of lines) {
    const fields = line.split(' ');
    if (fields[names.indexOf('srv_name')] !== server) continue;
    const isRunning = fields[names.indexOf('srv_op_state')] === '2';
    const isInMaintenance = (Number(fields[names.indexOf('srv_admin_state')]) & 0x7) !== 0;
    return isRunning && !isInMaintenance;
  }
  throw new DeployError(2, `HAProxy's backend ${balancer.backend} has no server ${server}`);
}

/** The heartbeat's readiness: its status code and JSON body (status 0 when it did not answer). */
async function readiness(host) {
  try {
    const response = await fetch(new URL('/readyz', host.heartbeat), {
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { status: 0, body: { status: error.message } };
  }
}

/** Whether the balancer routes to the host now. */
async function isInRotation(config, host) {
  if (config.balancer.type === 'haproxy') return isInHaproxyRotation(config.balancer, host.server);
  return (await readiness(host)).status === 200;
}

/**
 * Waits until the balancer routes to the host (`wanted` true) or not. Neither HAProxy's runtime
 * API nor the heartbeat can announce a change: they are asked every 100 ms, up to timeoutMs.
 */
async function waitForRotation(config, host, wanted) {
  const deadline = Date.now() + config.timeoutMs;
  while ((await isInRotation(config, host)) !== wanted) {
    if (Date.now() > deadline) {
      throw new DeployError(
        3,
        `${host.label}: still ${wanted ? 'out of' : 'in'} rotation after ${config.timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
}

async function run(config, host, command) {
  const result = await lastcall(host, command, config.timeoutMs);
  if (result.code !== 0 && command !== 'reload') {
    throw new DeployError(
      3,
      `${host.label}: lastcall ${command} exited ${result.code}: ${result.stderr}`,
    );
  }
  return result;
}

/** Puts a host whose new build failed back into rotation, then stops the deploy. */
async function stopAt(config, host, reason) {
  await run(config, host, 'enable');
  await waitForRotation(config, host, true);
  const { body } = await readiness(host);
  log(`${host.label}: back in rotation, serving version ${body.version}`);
  throw new DeployError(
    1,
    `${host.label}: ${reason}; deploy stopped, the hosts after it are untouched`,
  );
}

async function deployHost(config, host) {
  const started = Date.now();
  for (const other of config.hosts) {
    if (other !== host && !(await isInRotation(config, other))) {
      throw new DeployError(
        3,
        `${other.label} is out of rotation: not taking ${host.label} out too`,
      );
    }
  }
  await run(config, host, 'disable');
  await waitForRotation(config, host, false);
  log(`${host.label}: out of rotation after ${seconds(started)}`);
  const reload = await run(config, host, 'reload');
  if (reload.code !== 0) {
    log(`${host.label}: lastcall reload exited ${reload.code}: ${reload.stderr || reload.stdout}`);
    await stopAt(config, host, `reload failed (exit ${reload.code})`);
  }
  log(`${host.label}: ${reload.stdout}`);
  const { body } = await readiness(host);
  if (config.expectVersion !== undefined && body.version !== config.expectVersion) {
    await stopAt(config, host, `serves version ${body.version}, not ${config.expectVersion}`);
  }
  await run(config, host, 'enable');
  await waitForRotation(config, host, true);
  log(`${host.label}: back in rotation with version ${body.version} after ${seconds(started)}`);
}

async function main() {
  const started = Date.now();
  const config = readArguments(process.argv.slice(2));
  for (const host of config.hosts) host.label = host.server ?? host.heartbeat;
  for (const host of config.hosts) await deployHost(config, host);
  log(`done: ${config.hosts.length} hosts in ${seconds(started)}`);
}

main().catch((error) => {
  process.stderr.write(`deploy: ${error.message}\n`);
  process.exitCode = error instanceof DeployError ? error.exitCode : 3;
});
