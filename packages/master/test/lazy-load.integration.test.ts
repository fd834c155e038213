/**
 * What the worker runtime's packages load only when they need it, each checked in a fresh node
 * (the worker runtime itself: worker-runtime-load.integration.test.ts):
 * - @lastcall/graceful loads no crash reporter at import: @lastcall/last-ditch is loaded when a
 *   Graceful that needs it (one without a `reporter` of its own) is created, so that a worker of
 *   the master, which imports graceful before the app, loads it only after the app's main module,
 *   and a crash still finds it in memory;
 * - @lastcall/last-ditch loads neither node:crypto nor node:module (which sets up Node's ES module
 *   loader) at import: the first at the first report, for its id, the second only to find
 *   statsd-client; a report still gets a random UUID;
 * - @lastcall/log-shim loads node:module when it first looks for the app's winston (the default
 *   logger's first line), not at import.
 */
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Runs `script` as the main module of a fresh node (not `node -e`, which loads node:module
 * and node:crypto itself) and returns its result. `pkg(name)` in the script is the built package.
 */
function runScript(script: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-lazy-'));
  const file = path.join(dir, 'main.js');
  const pkg = `const pkg = (name) => require(${JSON.stringify(path.join(ROOT, 'node_modules', '@lastcall'))} + '/' + name);`;
  fs.writeFileSync(file, `'use strict';\n${pkg}\n${script}`);
  try {
    return spawnSync(process.execPath, [file], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, ...env },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `script` and returns what it printed, as JSON. */
function run(script: string): unknown {
  const result = runScript(script);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(result.stdout) as unknown;
}

describe('@lastcall/graceful', () => {
  const LOADED = `const lastDitch = () => Object.keys(require.cache).some((file) => file.includes(path.join('packages', 'last-ditch', 'dist')));`;

  it('loads @lastcall/last-ditch when a Graceful without a reporter is created, not at import', () => {
    const seen = run(`
      const path = require('node:path');
      ${LOADED}
      const { Graceful } = pkg('graceful');
      const atImport = lastDitch();
      new Graceful({ inProcessTest: true });
      console.log(JSON.stringify({ atImport, afterCreate: lastDitch() }));
    `);
    expect(seen).toEqual({ atImport: false, afterCreate: true });
  });

  it('never loads @lastcall/last-ditch for a Graceful with a reporter of its own', () => {
    const seen = run(`
      const path = require('node:path');
      ${LOADED}
      const { Graceful } = pkg('graceful');
      new Graceful({ inProcessTest: true, reporter: () => undefined });
      console.log(JSON.stringify({ afterCreate: lastDitch() }));
    `);
    expect(seen).toEqual({ afterCreate: false });
  });
});

describe('@lastcall/last-ditch', () => {
  it('loads node:crypto at the first report and node:module not at all for a report without statsd', () => {
    const script = `
      const builtin = (name) => process.moduleLoadList.includes('NativeModule ' + name);
      const before = { crypto: builtin('crypto'), module: builtin('module') };
      const { LastDitch } = pkg('last-ditch');
      const atImport = { crypto: builtin('crypto'), module: builtin('module') };
      new LastDitch({ crashLog: false, stderr: false, statsd: false })
        .report(new Error('boom'))
        .then((result) => {
          const afterReport = { crypto: builtin('crypto'), module: builtin('module') };
          console.log(JSON.stringify({ before, atImport, afterReport, id: result.id }));
        });
    `;
    const result = runScript(script, { LASTCALL_STATSD: '' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(seen['before']).toEqual({ crypto: false, module: false });
    expect(seen['atImport']).toEqual({ crypto: false, module: false });
    expect(seen['afterReport']).toEqual({ crypto: true, module: false });
    expect(seen['id']).toMatch(/^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/);
  });
});

describe('@lastcall/log-shim', () => {
  it('loads node:module at the first line of the default logger, not at import', () => {
    const script = `
      const loaded = () => process.moduleLoadList.includes('NativeModule module');
      const before = loaded();
      const { getLogger } = pkg('log-shim');
      const log = getLogger('lazy');
      const atImport = loaded();
      log.info('first line');
      console.log(JSON.stringify({ before, atImport, afterFirstLine: loaded() }));
    `;
    const result = runScript(script, { LASTCALL_LOG_LEVEL: 'info' });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('first line');
    expect(JSON.parse(result.stdout)).toEqual({
      before: false,
      atImport: false,
      afterFirstLine: true,
    });
  });
});
