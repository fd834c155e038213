'use strict';
/**
 * The process managers the cluster bench compares, each behind one interface:
 *
 *   const running = await manager.start({ dir, port, modeFile, workers, recycleMB });
 *   running.supervisorPid            the master (lastcall, naive) or the pm2 daemon
 *   await running.workerPids()       the pids serving now
 *   await running.reload()           { code, ms, output }: the manager's own reload command
 *   running.signal(sig)              a signal to the supervisor
 *   await running.cleanup()          kill everything it started; no process left behind
 *
 * Every manager runs in a fresh process tree and a temp folder of its own.
 */
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const APP = path.join(__dirname, 'app.js');
const LASTCALL = path.join(root, 'packages', 'lastcall', 'bin', 'lastcall.js');
const PM2 = require.resolve('pm2/bin/pm2', { paths: [root] });
const NAIVE = path.join(__dirname, 'naive-master.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * The scenarios poll each manager for its workers, some every 20 ms. Spawning `lastcall status`
 * or `pm2 jlist` for each poll would put a Node process start (130–250 ms of CPU) on the same two
 * cores as the app and the load, throughout the event, for those two managers and not for the
 * naive master (a file read): their throughput dips would be the bench's own. So both are asked
 * in this process, over the socket their CLI uses, with the same question their CLI asks.
 */

/** lastcall's `status` over the master's control socket, as `lastcall status --json` asks it. */
function lastcallStatus(pidFile, env) {
  const { askMaster } = require(path.join(root, 'packages', 'lastcall', 'dist', 'cli', 'control'));
  const { controlSocketPath } = require(
    path.join(root, 'packages', 'lastcall', 'dist', 'cli', 'paths'),
  );
  const socketPath = controlSocketPath(pidFile, env);
  return async () => {
    try {
      const reply = await askMaster(socketPath, 'status', 10_000);
      return reply.ok ? reply.status.workers : [];
    } catch {
      return []; // not running (any more)
    }
  };
}

/**
 * pm2's `getMonitorData` over the daemon's RPC socket with pm2's own axon modules, which is what
 * `pm2 jlist` asks. Resolves with [] when the daemon does not answer within 2 s (it was killed).
 */
function pm2Status(home) {
  const modules = path.join(
    path.dirname(require.resolve('pm2/package.json', { paths: [root] })),
    'modules',
  );
  const axon = require(path.join(modules, 'pm2-axon'));
  const RpcClient = require(path.join(modules, 'pm2-axon-rpc')).Client;
  let client;
  let socket;
  let isClosed = false;
  const ask = () =>
    new Promise((resolve) => {
      if (isClosed) return resolve([]);
      if (client === undefined) {
        socket = axon.socket('req');
        client = new RpcClient(socket);
        socket.on('error', () => undefined);
        socket.connect(path.join(home, 'rpc.sock'));
      }
      const timer = setTimeout(() => resolve([]), 2000);
      client.call('getMonitorData', {}, (error, list) => {
        clearTimeout(timer);
        resolve(error || !Array.isArray(list) ? [] : list);
      });
    });
  ask.close = () => {
    isClosed = true;
    if (socket !== undefined) socket.close();
  };
  return ask;
}

/** A bare environment: PATH and what the app needs, nothing of the caller's. */
function appEnv({ port, modeFile }, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    BENCH_MODE_FILE: modeFile,
    ...extra,
  };
}

function run(file, args, env, timeout = 120_000) {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { env, timeout, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          ms: Date.now() - startedAt,
          output: `${stdout}${stderr}`,
        });
      },
    );
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

/** A zombie is gone for every purpose here (this container's PID 1 may not reap orphans). */
function isZombie(pid) {
  try {
    return /^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function kill(pid, signal = 'SIGKILL') {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

/** Waits until `check()` is truthy; resolves with its value, or undefined after `ms`. */
async function until(check, ms, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(every);
  }
}

/** A supervisor we spawn ourselves (lastcall, naive), with its output kept. */
function spawnSupervisor(file, args, env) {
  const child = spawn(process.execPath, [file, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString('utf8');
    if (output.length > 1 << 20) output = output.slice(-(1 << 19));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

/** Kills a whole detached process group, then the pids given, and waits for them. */
async function killTree(groupPid, pids) {
  kill(-groupPid);
  for (const pid of pids) kill(pid);
  await until(() => [groupPid, ...pids].every((pid) => !isAlive(pid)), 5000);
}

const lastcall = {
  name: 'lastcall',
  describe: '`lastcall start app.js --workers 2` (defaults); reload: `lastcall reload`',
  async start(setup) {
    const pidFile = path.join(setup.dir, 'lastcall.pid');
    const args = [
      'start',
      APP,
      '--workers',
      String(setup.workers),
      '--pid-file',
      pidFile,
      '--name',
      'bench',
    ];
    if (setup.recycleMB !== undefined) {
      const config = path.join(setup.dir, 'lastcall.config.json');
      fs.writeFileSync(
        config,
        JSON.stringify({ recycle: { maxRssMB: setup.recycleMB, spacing: 1000 } }),
      );
      args.push('--config', config);
    }
    const env = appEnv(setup, { LASTCALL_RUN_DIR: setup.dir, LASTCALL_LOG_LEVEL: 'warn' });
    const supervisor = spawnSupervisor(LASTCALL, args, env);
    const status = lastcallStatus(pidFile, env);
    const seen = new Set();
    const running = {
      supervisorPid: supervisor.child.pid,
      supervisorExited: supervisor.exited,
      output: supervisor.output,
      async workerPids({ all = false } = {}) {
        const pids = (await status()).filter((w) => all || w.state === 'ready').map((w) => w.pid);
        for (const pid of pids) seen.add(pid);
        return pids;
      },
      reload: () => run(LASTCALL, ['reload', '--pid-file', pidFile], env),
      signal: (signal) => kill(supervisor.child.pid, signal),
      async cleanup() {
        await killTree(supervisor.child.pid, [...seen]);
      },
    };
    const ready = await until(() => supervisor.output().includes('is running'), 30_000);
    if (!ready) throw new Error(`lastcall did not start:\n${supervisor.output()}`);
    await running.workerPids();
    return running;
  },
};

function pm2Manager(name, { best }) {
  return {
    name,
    describe: best
      ? '`pm2 start app.js -i 2 --wait-ready --listen-timeout 10000 --kill-timeout 10000`, app sends ready and closes its server on SIGINT; reload: `pm2 reload`'
      : '`pm2 start app.js -i 2` (cluster mode, defaults); reload: `pm2 reload`',
    async start(setup) {
      const home = path.join(setup.dir, 'pm2-home');
      fs.mkdirSync(home, { recursive: true });
      const env = appEnv(setup, { PM2_HOME: home, ...(best ? { BENCH_PM2_BEST: '1' } : {}) });
      const args = ['start', APP, '-i', String(setup.workers), '--name', 'bench'];
      if (best) args.push('--wait-ready', '--listen-timeout', '10000', '--kill-timeout', '10000');
      if (setup.recycleMB !== undefined) args.push('--max-memory-restart', `${setup.recycleMB}M`);
      const started = await run(PM2, args, env, 60_000);
      const daemonPid = Number(await until(() => readText(path.join(home, 'pm2.pid')), 10_000));
      const seen = new Set();
      const jlist = pm2Status(home);
      const running = {
        supervisorPid: daemonPid,
        supervisorExited: until(
          () => !isAlive(daemonPid) && { code: null, signal: null },
          24 * 3600_000,
          100,
        ),
        output: () => started.output,
        async workerPids({ all = false } = {}) {
          const pids = (await jlist())
            .filter((entry) => (all || entry.pm2_env?.status === 'online') && entry.pid > 0)
            .map((entry) => entry.pid);
          for (const pid of pids) seen.add(pid);
          return pids;
        },
        reload: () => run(PM2, ['reload', 'bench'], env),
        signal: (signal) => kill(daemonPid, signal),
        async cleanup() {
          jlist.close();
          await run(PM2, ['kill'], env, 20_000);
          kill(daemonPid);
          for (const pid of seen) kill(pid);
          await until(() => [daemonPid, ...seen].every((pid) => !isAlive(pid)), 5000);
        },
      };
      if (started.code !== 0) {
        await running.cleanup();
        throw new Error(`pm2 start failed:\n${started.output}`);
      }
      const ready = await until(
        async () => (await running.workerPids()).length === setup.workers,
        30_000,
        200,
      );
      if (!ready) {
        await running.cleanup();
        throw new Error(`pm2 did not bring ${setup.workers} workers online`);
      }
      return running;
    },
  };
}

const naive = {
  name: 'naive cluster',
  describe:
    'the Node docs `cluster` example + respawn on exit; reload: SIGHUP, kill then fork each worker',
  async start(setup) {
    const pidsFile = path.join(setup.dir, 'naive-pids.json');
    const env = appEnv(setup, { BENCH_PIDS_FILE: pidsFile });
    const supervisor = spawnSupervisor(NAIVE, [APP, String(setup.workers)], env);
    const seen = new Set();
    const running = {
      supervisorPid: supervisor.child.pid,
      supervisorExited: supervisor.exited,
      output: supervisor.output,
      async workerPids() {
        const pids = JSON.parse(readText(pidsFile) || '[]');
        for (const pid of pids) seen.add(pid);
        return pids;
      },
      async reload() {
        const startedAt = Date.now();
        const before = new Set(await running.workerPids());
        kill(supervisor.child.pid, 'SIGHUP');
        const done = await until(async () => {
          const pids = await running.workerPids();
          return pids.length === setup.workers && pids.every((pid) => !before.has(pid));
        }, 30_000);
        return { code: done ? 0 : 1, ms: Date.now() - startedAt, output: '' };
      },
      signal: (signal) => kill(supervisor.child.pid, signal),
      async cleanup() {
        await killTree(supervisor.child.pid, [...seen]);
      },
    };
    const ready = await until(
      async () => (await running.workerPids()).length === setup.workers,
      30_000,
    );
    if (!ready) {
      await running.cleanup();
      throw new Error(`the naive cluster did not start:\n${supervisor.output()}`);
    }
    return running;
  },
};

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The managers running now, so that an interrupted bench can stop them (`cleanupAll`). */
const live = new Set();

function tracked(manager) {
  return {
    ...manager,
    async start(setup) {
      const running = await manager.start(setup);
      const cleanup = running.cleanup;
      running.cleanup = async () => {
        live.delete(running);
        await cleanup();
      };
      live.add(running);
      return running;
    },
  };
}

/** Stops every manager still running: for a bench interrupted by a signal. */
function cleanupAll() {
  return Promise.all([...live].map((running) => running.cleanup()));
}

const MANAGERS = {
  lastcall: tracked(lastcall),
  pm2: tracked(pm2Manager('pm2', { best: false })),
  'pm2-best': tracked(pm2Manager('pm2 best practice', { best: true })),
  naive: tracked(naive),
};

module.exports = { MANAGERS, cleanupAll, isAlive, kill, until, sleep, APP };
