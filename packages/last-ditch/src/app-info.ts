import * as fs from 'node:fs';
import type { Cluster } from 'node:cluster';
import * as path from 'node:path';
import { mainModulePath } from '@lastcall/log-shim';

/**
 * The app's own name from the nearest package.json above its main module, then above the
 * working folder; `'app'` when there is none.
 */
export function findAppName(): string {
  const starts = [mainModulePath(), path.join(process.cwd(), 'index.js')];
  for (const start of starts) {
    if (start === undefined) continue;
    let dir = path.dirname(start);
    for (;;) {
      const name = readPackageName(path.join(dir, 'package.json'));
      if (name !== undefined) return name;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return 'app';
}

/**
 * The app's name: `given` when it is a usable name, else `LASTCALL_APP_NAME`, else
 * `THEHELP_APP_NAME`, else {@link findAppName}. A value that is empty, only whitespace or the
 * string `'undefined'` (what `process.env.X = undefined` stores) does not count, so the result
 * is never one of them.
 */
export function resolveAppName(given?: string): string {
  return usableName(given) ?? appNameFromEnv() ?? usableName(findAppName()) ?? 'app';
}

/** `LASTCALL_APP_NAME`, then `THEHELP_APP_NAME`, skipping values that are not usable names. */
export function appNameFromEnv(): string | undefined {
  return (
    usableName(process.env['LASTCALL_APP_NAME']) ?? usableName(process.env['THEHELP_APP_NAME'])
  );
}

function usableName(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' && value !== 'undefined'
    ? value
    : undefined;
}

function readPackageName(file: string): string | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' && parsed.name !== '' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/** `master` in a cluster primary or a lone process, `worker <id>` in a cluster worker. */
export function clusterRole(): string {
  // Loaded here, not at module load, so that importing last-ditch loads nothing it does not use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cluster = require('node:cluster') as Cluster;
  const worker = cluster.worker;
  return cluster.isPrimary || worker === undefined ? 'master' : `worker ${String(worker.id)}`;
}
