'use strict';

// Parent side of one server child: fork, wait for its port, exchange bounded IPC messages, kill.

const { fork } = require('node:child_process');
const path = require('node:path');

const CHILD_ENTRY = path.join(__dirname, 'server-child.js');
const START_TIMEOUT_MS = 10000;

/** Resolves with the next message of `type`, or rejects after `timeoutMs`. */
function nextMessage(child, type, timeoutMs) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (!message || message.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`server child exited (${signal || code}) while waiting for "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no "${type}" from the server child within ${timeoutMs} ms`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Forks a server child for one run. config: { lib, protocol, graceMs, webSocket, exposeGc }.
 * Resolves with a handle once the child listens.
 */
async function startServer(config) {
  const stderr = [];
  const child = fork(CHILD_ENTRY, [JSON.stringify(config)], {
    // --expose-gc for the scale curves' heap figures, taken after a full collection.
    execArgv: config.exposeGc ? ['--expose-gc'] : [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, DEBUG: '' },
  });
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 50) stderr.push(String(chunk));
  });
  let listening;
  try {
    listening = await nextMessage(child, 'listening', START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${stderr.join('')}`, { cause: error });
  }

  async function request(message, replyType, timeoutMs) {
    const reply = nextMessage(child, replyType, timeoutMs);
    child.send(message);
    return reply;
  }

  return {
    port: listening.port,
    pid: listening.pid,
    origin: `${config.protocol === 'https' ? 'https' : 'http'}://127.0.0.1:${listening.port}`,
    /** Waits until server counters reach `targets`; resolves { reached, counters } either way. */
    waitFor: (targets, timeoutMs = 10000) =>
      request({ type: 'wait', targets, timeoutMs }, 'waited', timeoutMs + 2000),
    counters: async () => (await request({ type: 'counters' }, 'counters', 5000)).counters,
    /** Starts the library's shutdown; resolves with the child's 'terminated' report. */
    terminate: (boundMs) => request({ type: 'terminate', boundMs }, 'terminated', boundMs + 5000),
    /** The child's heap in use after two full collections (needs `exposeGc`). */
    heapUsed: async () => (await request({ type: 'heap' }, 'heap', 10000)).heapUsed,
    cpuStart: () => request({ type: 'cpu-start' }, 'cpu-started', 5000),
    cpuStop: () => request({ type: 'cpu-stop' }, 'cpu-stopped', 5000),
    stderr: () => stderr.join(''),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
    },
  };
}

module.exports = { startServer };
