/**
 * The worker runtime loads before the app (`--require`), on the path of every worker to its
 * first listen: what it needs only once a server listens (@lastcall/terminator) or only after
 * the app's main module (@lastcall/graceful, log-shim, and last-ditch, the crash reporter of the
 * Graceful it adopts) is loaded then, and is there once the worker listens.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RUNTIME = path.join(ROOT, 'packages', 'master', 'dist', 'worker', 'runtime.js');

const APP = `'use strict';
const path = require('node:path');
const loaded = (name) =>
  Object.keys(require.cache).some((file) => file.includes(path.join('packages', name, 'dist')));
const seen = () => ({
  terminator: loaded('terminator'),
  graceful: loaded('graceful'),
  logShim: loaded('log-shim'),
  lastDitch: loaded('last-ditch'),
});
const beforeListen = seen();
const server = require('node:http').createServer((request, response) => response.end('ok'));
server.listen(0, '127.0.0.1', () => {
  const atListen = seen();
  setTimeout(() => process.send({ beforeListen, atListen, afterMain: seen() }), 100);
});
`;

const PRIMARY = `'use strict';
const cluster = require('node:cluster');
cluster.setupPrimary({ exec: process.env.APP, silent: true, execArgv: ['--require', process.env.RUNTIME] });
const worker = cluster.fork({ LASTCALL_MASTER: '1', LASTCALL_WORKER_SLOT: '0' });
worker.on('message', (message) => {
  if (message === null || typeof message !== 'object' || !('beforeListen' in message)) return;
  process.stdout.write(JSON.stringify(message));
  worker.process.kill('SIGKILL');
  process.exit(0);
});
setTimeout(() => process.exit(3), 15_000).unref();
`;

it('loads the terminator at the first listen and graceful with its crash reporter after the main module, not before the app', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-runtime-load-'));
  try {
    fs.writeFileSync(path.join(dir, 'app.js'), APP);
    fs.writeFileSync(path.join(dir, 'primary.js'), PRIMARY);
    const result = spawnSync(process.execPath, [path.join(dir, 'primary.js')], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, APP: path.join(dir, 'app.js'), RUNTIME },
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const loadedAfterMain = expect.any(Boolean) as boolean;
    expect(JSON.parse(result.stdout)).toEqual({
      beforeListen: { terminator: false, graceful: false, logShim: false, lastDitch: false },
      // The Graceful is adopted in a setImmediate after the main module, which may come before
      // or after the primary's answer to the listen.
      atListen: {
        terminator: true,
        graceful: loadedAfterMain,
        logShim: loadedAfterMain,
        lastDitch: loadedAfterMain,
      },
      afterMain: { terminator: true, graceful: true, logShim: true, lastDitch: true },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
