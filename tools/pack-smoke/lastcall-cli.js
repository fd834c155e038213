'use strict';

/**
 * The command-line step of pack-smoke for the meta package. In the temp project where the packed
 * `lastcall` and its siblings are installed, it runs the installed bin the way a user does:
 * `lastcall start` on a tiny http app, requests, `status`, `reload`, `status`, requests, `stop`,
 * and checks that nothing of it outlives `stop`. POSIX only, like the command's control socket.
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawnMaster } = require('./master-process');

const APP_NAME = 'pack-smoke';
const WORKERS = 2;
/** Beyond the master's own readyTimeout (30 s), so that its start failure, exit 7, is reported. */
const START_TIMEOUT_MS = 40_000;
const COMMAND_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;
const MIN_REQUESTS = 4;
const MAX_REQUESTS = 40;

/** A plain http app that answers its pid; `lastcall start` gives it PORT through `--env`. */
const APP_SOURCE = `'use strict';
const http = require('node:http');

http
  .createServer((request, response) => {
    response.setHeader('content-type', 'text/plain');
    response.end(String(process.pid));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Node 20's global agent keeps connections alive; a new connection per request lets the
 * master's round robin hand requests to every worker. */
const agent = new http.Agent({ keepAlive: false });

/**
 * The environment of the `lastcall` processes: ours without the LASTCALL_* and THEHELP_*
 * variables (the command reads them, and they must not change what this step tests), with this
 * Node first on PATH, since the bin's `#!/usr/bin/env node` picks the first `node` there.
 * @returns {NodeJS.ProcessEnv}
 */
function createCliEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(LASTCALL|THEHELP)_/i.test(key)),
  );
  env.PATH = [path.dirname(process.execPath), process.env.PATH ?? '']
    .filter((entry) => entry !== '')
    .join(path.delimiter);
  return env;
}

/**
 * Binds `port` (0: any) on 127.0.0.1, closes it again and resolves with the port it got.
 * @param {number} port
 * @returns {Promise<number>}
 */
function bindAndRelease(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * One GET / on 127.0.0.1:`port`, on a connection of its own.
 * @param {number} port
 * @returns {Promise<{ status: number | undefined, body: string }>}
 */
function get(port) {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/', agent, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode, body }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => {
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`));
    });
    request.on('error', reject);
  });
}

/**
 * Requests the app until every pid of `expected` has answered (at least MIN_REQUESTS, at most
 * MAX_REQUESTS times); each answer must be a 200 from one of them.
 * @param {number} port
 * @param {number[]} expected the worker pids `status` reported
 * @returns {Promise<number>} how many requests it took
 */
async function requestEveryWorker(port, expected) {
  /** @type {Set<number>} */
  const answered = new Set();
  let count = 0;
  while (count < MIN_REQUESTS || (answered.size < expected.length && count < MAX_REQUESTS)) {
    count += 1;
    let answer;
    try {
      answer = await get(port);
    } catch (error) {
      throw new Error(`request ${count} to 127.0.0.1:${port} failed: ${error.message}`, {
        cause: error,
      });
    }
    const pid = Number(answer.body);
    if (answer.status !== 200 || !expected.includes(pid)) {
      throw new Error(
        `request ${count} got ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}; ` +
          `expected 200 and the pid of a worker (${expected.join(', ')})`,
      );
    }
    answered.add(pid);
  }
  if (answered.size < expected.length) {
    throw new Error(
      `${count} requests were answered by pids ${[...answered].join(', ')} only; ` +
        `expected every worker (${expected.join(', ')})`,
    );
  }
  return count;
}

/**
 * Runs `lastcall <args>` and resolves with its stdout when it exits with `expectedCode`.
 * @param {string} bin
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv }} options
 * @param {number} [expectedCode]
 * @returns {Promise<string>}
 */
function runCli(bin, args, { cwd, env }, expectedCode = 0) {
  const label = `lastcall ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { cwd, env, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS + 5000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : error.code;
        if (code === expectedCode) {
          resolve(stdout);
          return;
        }
        const how = error?.killed ? 'was killed after its timeout' : `exited with ${code}`;
        const output = [stdout, stderr].filter((text) => text.trim() !== '').join('\n');
        reject(new Error(`\`${label}\` ${how}, expected ${expectedCode}\n${output}`.trim()));
      },
    );
  });
}

/**
 * `lastcall status --json`, checked: this master, WORKERS workers, all ready.
 * @param {string} bin
 * @param {string[]} target the flags that name the master
 * @param {{ cwd: string, env: NodeJS.ProcessEnv }} options
 * @param {number} masterPid
 * @returns {Promise<number[]>} the worker pids
 */
async function readWorkerPids(bin, target, options, masterPid) {
  const stdout = await runCli(bin, ['status', '--json', ...target], options);
  /** @type {{ master?: { pid?: unknown }, workers?: Array<{ pid?: unknown, state?: unknown }> }} */
  let status;
  try {
    status = JSON.parse(stdout);
  } catch (error) {
    throw new Error(`\`lastcall status --json\` printed no JSON: ${stdout}`, { cause: error });
  }
  const workers = status.workers ?? [];
  const pids = workers.map((worker) => worker.pid).filter(Number.isInteger);
  if (
    status.master?.pid !== masterPid ||
    workers.length !== WORKERS ||
    pids.length !== WORKERS ||
    !workers.every((worker) => worker.state === 'ready')
  ) {
    throw new Error(
      `\`lastcall status --json\` reported ${stdout.trim()}; expected master pid ${masterPid} ` +
        `and ${WORKERS} ready workers`,
    );
  }
  return /** @type {number[]} */ (pids);
}

/**
 * @param {number} since a `performance.now()`
 * @returns {string}
 */
function secondsSince(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/**
 * Runs the installed `lastcall` bin of `projectDir` through start, requests, status, reload and
 * stop. On failure it kills what it started and throws with the master's output.
 * @param {object} options
 * @param {string} options.projectDir the temp project where lastcall is installed
 * @param {string} options.binFile the `bin.lastcall` path of lastcall's package.json
 * @returns {Promise<string>} a summary of what it did
 */
async function smokeTestCli({ projectDir, binFile }) {
  const startedAt = performance.now();
  const bin = path.join(projectDir, 'node_modules', '.bin', 'lastcall');
  const binTarget = path.join(projectDir, 'node_modules', 'lastcall', binFile);
  if (!fs.existsSync(bin)) throw new Error('npm linked no node_modules/.bin/lastcall');
  if (fs.realpathSync(bin) !== fs.realpathSync(binTarget)) {
    throw new Error(`node_modules/.bin/lastcall leads to ${fs.realpathSync(bin)}, not ${binFile}`);
  }
  fs.accessSync(bin, fs.constants.X_OK);
  fs.writeFileSync(path.join(projectDir, 'app.js'), APP_SOURCE);
  const pidFile = path.join(projectDir, 'run', `${APP_NAME}.pid`);
  const target = ['--pid-file', pidFile];
  const commandTimeout = String(COMMAND_TIMEOUT_MS / 1000);
  const options = { cwd: projectDir, env: createCliEnv() };
  const port = await bindAndRelease(0);

  const spawnedAt = performance.now();
  const startArgs = ['start', 'app.js', '--workers', String(WORKERS), '--name', APP_NAME];
  const master = spawnMaster(bin, [...startArgs, ...target, '--env', `PORT=${port}`], options);
  try {
    await master.waitForStdout(
      new RegExp(`^lastcall: ${APP_NAME} is running ${WORKERS} workers `, 'm'),
      START_TIMEOUT_MS,
    );
    const startTime = secondsSince(spawnedAt);
    const firstPids = await readWorkerPids(bin, target, options, master.pid);
    master.learn(firstPids);
    const firstRequests = await requestEveryWorker(port, firstPids);

    const reloadedAt = performance.now();
    const reloaded = await runCli(bin, ['reload', ...target, '--timeout', commandTimeout], options);
    if (!reloaded.startsWith(`lastcall: reloaded ${WORKERS} workers `)) {
      throw new Error(`\`lastcall reload\` printed ${JSON.stringify(reloaded)}`);
    }
    const reloadTime = secondsSince(reloadedAt);
    const newPids = await readWorkerPids(bin, target, options, master.pid);
    master.learn(newPids);
    const kept = newPids.filter((pid) => firstPids.includes(pid));
    if (kept.length > 0) throw new Error(`the reload kept workers ${kept.join(', ')}`);
    const oldAlive = firstPids.filter((pid) => master.isAlive(pid));
    if (oldAlive.length > 0) throw new Error(`replaced workers still run: ${oldAlive.join(', ')}`);
    const reloadRequests = await requestEveryWorker(port, newPids);

    const stoppedAt = performance.now();
    await runCli(bin, ['stop', ...target, '--timeout', commandTimeout], options);
    const exit = await master.waitForExit(EXIT_TIMEOUT_MS);
    if (exit.code !== 0) {
      throw new Error(`\`lastcall start\` exited with ${exit.code ?? exit.signal} after stop`);
    }
    const stopTime = secondsSince(stoppedAt);
    const remaining = master.listRemaining();
    if (remaining.length > 0) throw new Error(`after stop, still running: ${remaining.join(', ')}`);
    if (fs.existsSync(pidFile)) throw new Error(`the pid file ${pidFile} is left after stop`);
    try {
      await bindAndRelease(port);
    } catch (error) {
      throw new Error(`port ${port} cannot be bound after stop: ${error.message}`, {
        cause: error,
      });
    }
    return (
      `start ${startTime}, ${WORKERS} workers answered ${firstRequests} requests; ` +
      `reload ${reloadTime}, ${WORKERS} new workers answered ${reloadRequests} requests; ` +
      `stop ${stopTime}, exit 0, port free, no process left; ${secondsSince(startedAt)} in all`
    );
  } catch (error) {
    const leftover = await master.killTree();
    throw new Error(`${error.message}${leftover}\n${master.describeOutput()}`, { cause: error });
  } finally {
    master.dispose();
  }
}

module.exports = { smokeTestCli };
