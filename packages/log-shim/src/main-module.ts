import * as path from 'node:path';

/**
 * The path of the app's main script, for finding the app's own packages and package.json.
 * `require.main` is not enough: a module loaded with `node --require` (as the lastcall master's
 * worker runtime loads every package) got its `require` before the main module existed, and
 * its `require.main` stays undefined for good; in an ES module it is undefined too.
 * `process.argv[1]` is the script in both cases.
 */
export function mainModulePath(): string | undefined {
  const fromRequire = require.main?.filename;
  if (fromRequire !== undefined) return fromRequire;
  const script = process.argv[1];
  return script === undefined || script === '' ? undefined : path.resolve(script);
}
