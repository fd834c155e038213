/**
 * Importing @lastcall/graceful loads no crash reporter: @lastcall/last-ditch is loaded when a
 * Graceful that needs it (one without a `reporter` of its own) is created, so that a worker of the
 * lastcall master, which imports graceful before the app, loads it only after the app's main
 * module, and a crash still finds it in memory.
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
