'use strict';

/**
 * A `lastcall start` process run by pack-smoke: its output, kept for the failure message, and a
 * way to kill it with every process it forked, so that no run leaves one behind, not even one
 * interrupted by Ctrl-C.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const KILL_TIMEOUT_MS = 5_000;
/** The most output kept of each stream; the end is what a failure message needs. */
const OUTPUT_LIMIT = 1024 * 1024;
const FORWARDED_SIGNALS = /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']);

/**
 * Whether `pid` runs. A zombie does not: on Linux its /proc state is Z. Orphaned workers of a
 * killed master stay zombies where PID 1 does not reap (containers without an init).
 * @param {number} pid
 * @returns {boolean}
 */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  return readStat(pid)?.state !== 'Z';
}

/**
 * The state and process group of `pid` from /proc (Linux); undefined elsewhere or when gone.
 * @param {number | string} pid
 * @returns {{ state: string, group: number } | undefined}
 */
function readStat(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may hold spaces and parentheses itself.
  const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state ?? '', group: Number(group) };
}

/**
 * The live processes of process group `group`: their pids where /proc lists them, else the
 * group itself when anything of it is left.
 * @param {number} group
 * @returns {string[]}
 */
function listGroup(group) {
  if (fs.existsSync('/proc/self/stat')) {
    return fs
      .readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        const stat = readStat(entry);
        return stat !== undefined && stat.group === group && stat.state !== 'Z';
      })
      .map((entry) => `pid ${entry}`);
  }
  try {
    process.kill(-group, 0);
    return [`process group ${group}`];
  } catch (error) {
    return error.code === 'EPERM' ? [`process group ${group}`] : [];
  }
}

/**
 * @param {number} ms
 * @param {boolean} [keepsAlive] whether the wait keeps the process alive
 * @returns {Promise<void>}
 */
function delay(ms, keepsAlive = true) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (!keepsAlive) timer.unref();
  });
}

/**
 * Starts `bin args` in `cwd`.
 * @param {string} bin
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv }} options
 */
function spawnMaster(bin, args, { cwd, env }) {
  // Detached, the master leads a process group of its own, which its workers join: one
  // kill(-pid) then reaches every process of it, the ones this script never learned of too.
  const child = spawn(bin, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  const output = { stdout: '', stderr: '' };
  /** @type {Set<number>} */
  const workerPids = new Set();
  /** @type {Promise<{ code: number | null, signal: string | null, error?: Error }>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk) => {
      output[stream] = (output[stream] + chunk).slice(-OUTPUT_LIMIT);
    });
  }

  const killNow = () => {
    if (pid === 0) return;
    for (const target of [-pid, pid, ...workerPids]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  };
  // Our own default action on these signals would leave the master (in its own group) running.
  /** @param {NodeJS.Signals} signal */
  const onSignal = (signal) => {
    killNow();
    for (const forwarded of FORWARDED_SIGNALS) process.off(forwarded, onSignal);
    process.kill(process.pid, signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);

  /** Every process of it that still runs. */
  const listRemaining = () => [
    ...(pid !== 0 && isAlive(pid) ? [`master ${pid}`] : []),
    ...[...workerPids].filter(isAlive).map((workerPid) => `worker ${workerPid}`),
    ...(pid === 0 ? [] : listGroup(pid)),
  ];

  return {
    pid,
    isAlive,
    listRemaining,

    /**
     * Remembers worker pids, to kill them too should it come to that.
     * @param {number[]} pids
     */
    learn(pids) {
      for (const workerPid of pids) workerPids.add(workerPid);
    },

    /**
     * Resolves once stdout matches `pattern`; rejects when the master exits or `timeoutMs` ends.
     * @param {RegExp} pattern
     * @param {number} timeoutMs
     * @returns {Promise<void>}
     */
    waitForStdout(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        /** @param {Error} [error] */
        const finish = (error) => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          if (error === undefined) resolve();
          else reject(error);
        };
        const check = () => {
          if (pattern.test(output.stdout)) finish();
        };
        const timer = setTimeout(() => {
          finish(new Error(`\`lastcall start\` printed no ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        child.stdout.on('data', check);
        void exited.then(({ code, signal, error }) => {
          const how = error === undefined ? `exited with ${code ?? signal}` : error.message;
          finish(new Error(`\`lastcall start\` ${how} before it printed ${pattern}`));
        });
        check();
      });
    },

    /**
     * Resolves with how the master exited; rejects when it still runs after `timeoutMs`.
     * @param {number} timeoutMs
     */
    async waitForExit(timeoutMs) {
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const timeout = new Promise((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`\`lastcall start\` still runs ${timeoutMs} ms after stop`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    /**
     * SIGKILLs the master, its process group and the workers it learned, and waits (bounded)
     * until they are gone.
     * @returns {Promise<string>} '' or what still runs, to add to the failure message
     */
    async killTree() {
      killNow();
      const deadline = Date.now() + KILL_TIMEOUT_MS;
      await Promise.race([exited, delay(KILL_TIMEOUT_MS, false)]);
      // A process that is not our child announces no exit; asking again is all there is.
      while (listRemaining().length > 0 && Date.now() < deadline) await delay(50);
      const remaining = listRemaining();
      return remaining.length === 0 ? '' : `\nstill running after SIGKILL: ${remaining.join(', ')}`;
    },

    /** The master's output, for a failure message. */
    describeOutput() {
      const describe = (/** @type {'stdout' | 'stderr'} */ stream) =>
        `--- lastcall start ${stream} ---\n${output[stream].trimEnd() || '(nothing)'}`;
      return `${describe('stdout')}\n${describe('stderr')}`;
    },

    /** Stops forwarding our signals to it; call once it is stopped or killed. */
    dispose() {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
    },
  };
}

module.exports = { spawnMaster };
