import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_VERSION_CHARS } from '../protocol';

/** How many folders up from the app's main script a package.json is looked for. */
const MAX_LEVELS = 32;

/**
 * The version of the app a worker runs: `LASTCALL_APP_VERSION` when set, else the `version` of
 * the package.json nearest the main script (`script`, its folder and up), read when the worker
 * starts, so that a reload with new code reports the new version. Null for none. Never throws:
 * an unreadable or broken package.json is no version.
 */
export function appVersion(script: string | undefined, env: NodeJS.ProcessEnv): string | null {
  const given = env['LASTCALL_APP_VERSION'];
  if (given !== undefined && given.trim() !== '') return given.trim().slice(0, MAX_VERSION_CHARS);
  if (script === undefined || script === '') return null;
  let folder = path.dirname(path.resolve(script));
  for (let level = 0; level < MAX_LEVELS; level += 1) {
    const version = readVersion(path.join(folder, 'package.json'));
    if (version !== undefined) return version;
    const parent = path.dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return null;
}

/** The version in `file`; null when it has none; undefined when there is no such file. */
function readVersion(file: string): string | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const { version } = JSON.parse(text) as { version?: unknown };
    return typeof version === 'string' && version.trim() !== ''
      ? version.trim().slice(0, MAX_VERSION_CHARS)
      : null;
  } catch {
    return null;
  }
}
