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
