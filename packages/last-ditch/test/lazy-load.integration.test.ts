/**
 * Importing @lastcall/last-ditch loads neither node:crypto nor node:module (which sets up Node's
 * ES module loader): the first is loaded at the first report, for its id, the second only to
 * find statsd-client. A report still gets a random UUID.
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
