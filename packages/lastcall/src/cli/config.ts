import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeValue } from '@lastcall/log-shim';
import type { MasterOptions } from '@lastcall/master';
import { CliFailure, EXIT } from './exit-codes';

/** The file names `lastcall start` looks for in the working folder, in this order. */
export const CONFIG_FILES = ['lastcall.config.js', 'lastcall.config.cjs', 'lastcall.config.json'];

/** What a configuration file holds: the options of `Master`, and the app's `name`. */
export type FileConfig = MasterOptions & { readonly name?: string };

/** How long a configuration function (or its promise) may take before `start` gives up, in ms. */
export const CONFIG_TIMEOUT = 30_000;

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
export async function loadConfig(
  cwd: string,
  explicit: string | undefined,
  timeoutMs = CONFIG_TIMEOUT,
): Promise<LoadedConfig> {
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
      value =
        typeof loaded === 'function'
          ? await withDeadline((loaded as () => unknown)(), timeoutMs)
          : loaded;
    }
  } catch (error) {
    throw bad(file, error instanceof Error ? error.message : String(error));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(file, `expected an object of Master options, got ${describeValue(value)}`);
  }
  const { name, pidFile, pidDir } = value as {
    name?: unknown;
    pidFile?: unknown;
    pidDir?: unknown;
  };
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) {
    throw bad(file, `"name" must be a non-empty string, got ${describeValue(name)}`);
  }
  // Read here, before Master sees it: `start` turns it into a path first.
  if (pidFile !== undefined && (typeof pidFile !== 'string' || pidFile.trim() === '')) {
    throw bad(file, `"pidFile" must be a path (a non-empty string), got ${describeValue(pidFile)}`);
  }
  if (pidDir !== undefined && (typeof pidDir !== 'string' || pidDir.trim() === '')) {
    throw bad(file, `"pidDir" must be a path (a non-empty string), got ${describeValue(pidDir)}`);
  }
  return { file, config: value };
}

/** `value` awaited, or a rejection naming the deadline when it has not settled by then. */
async function withDeadline(value: unknown, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `the exported function did not settle within ${String(timeoutMs / 1000)} s (does it await something that never ends?)`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve(value), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function bad(file: string, reason: string): CliFailure {
  return new CliFailure(EXIT.badConfig, `${file}: ${reason}`);
}
