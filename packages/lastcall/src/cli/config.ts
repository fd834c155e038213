import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeValue } from '@lastcall/log-shim';
import type { MasterOptions } from '@lastcall/master';
import { CliFailure, EXIT } from './exit-codes';

/** The file names `lastcall start` looks for in the working folder, in this order. */
export const CONFIG_FILES = ['lastcall.config.js', 'lastcall.config.cjs', 'lastcall.config.json'];

/** What a configuration file holds: the options of `Master`, and the app's `name`. */
export type FileConfig = MasterOptions & { readonly name?: string };

/** A configuration file's content and where it came from. */
export interface LoadedConfig {
  readonly file: string | undefined;
  readonly config: FileConfig;
}

/**
 * Loads `explicit` (which must exist) or the first of {@link CONFIG_FILES} in `cwd`; none is an
 * empty configuration. A `.js` file may export the object, or a function returning it (or a
 * promise of it). Throws a {@link CliFailure} with `EXIT.badConfig` naming the file.
 */
export async function loadConfig(cwd: string, explicit: string | undefined): Promise<LoadedConfig> {
  const file =
    explicit === undefined
      ? CONFIG_FILES.map((name) => path.join(cwd, name)).find((candidate) =>
          fs.existsSync(candidate),
        )
      : path.resolve(cwd, explicit);
  if (file === undefined) return { file: undefined, config: {} };
  if (!fs.existsSync(file)) throw bad(file, 'no such file');
  let value: unknown;
  try {
    if (file.endsWith('.json')) {
      value = JSON.parse(fs.readFileSync(file, 'utf8'));
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file of the app's
      const loaded: unknown = require(file);
      value = typeof loaded === 'function' ? await (loaded as () => unknown)() : loaded;
    }
  } catch (error) {
    throw bad(file, error instanceof Error ? error.message : String(error));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(file, `expected an object of Master options, got ${describeValue(value)}`);
  }
  const { name } = value as { name?: unknown };
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
    throw bad(file, `"name" must be a non-empty string, got ${describeValue(name)}`);
  }
  return { file, config: value };
}

function bad(file: string, reason: string): CliFailure {
  return new CliFailure(EXIT.badConfig, `${file}: ${reason}`);
}
