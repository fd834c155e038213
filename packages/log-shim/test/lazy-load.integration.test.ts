/**
 * Importing @lastcall/log-shim does not load node:module, which sets up Node's ES module loader:
 * it is loaded when the shim first looks for the app's winston (the default logger's first line).
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
