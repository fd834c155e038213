import type * as NodeModule from 'node:module';
import * as path from 'node:path';
import { mainModulePath } from './main-module';

/** The part of the `winston` module the shim reads to find the app's default logger. */
interface WinstonModule {
  readonly default?: { readonly transports?: readonly unknown[] };
}

/**
 * node:module's `createRequire(anchor)`. node:module is loaded at the first call, not when
 * log-shim is imported: loading it sets up Node's ES module loader (eight internal modules), a
 * cost every process importing log-shim would pay, through any lastcall package, before its
 * first log line or even without one.
 */
export function createRequireFrom(anchor: string): NodeJS.Require {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:module') as typeof NodeModule).createRequire(anchor);
}

/**
 * The `require` functions of the app itself: from its main module and from the working folder,
 * so the app's own copy of a host library is found, not one that sits next to this package.
 */
export function appRequires(): NodeJS.Require[] {
  return appAnchors().map((anchor) => createRequireFrom(anchor));
}

/** The files the app's `require` resolves from: its main module, then its working folder. */
function appAnchors(): string[] {
  const anchors = [mainModulePath(), path.join(process.cwd(), 'package.json')];
  return anchors.filter((anchor) => anchor !== undefined);
}

/**
 * The app's own `winston` module when the app has loaded it and given its default logger at
 * least one transport; otherwise `undefined`. Never loads winston: an app that did not load it
 * cannot have configured it, and winston pulled in by some other package must not be mistaken
 * for the app's logger.
 */
export function findConfiguredAppWinston(): object | undefined {
  for (const { resolved, cache } of resolveAppWinston()) {
    const loaded = cache[resolved]?.exports as WinstonModule | undefined;
    const transports = loaded?.default?.transports;
    if (loaded !== undefined && Array.isArray(transports) && transports.length > 0) return loaded;
  }
  return undefined;
}

/** Where winston resolves to from one anchor, and the module cache of Node's own loader. */
interface ResolvedWinston {
  readonly resolved: string;
  readonly cache: NodeJS.Require['cache'];
}

const resolvedByAnchor = new Map<string, ResolvedWinston | undefined>();

/**
 * Where the app's `winston` would load from, per anchor. Resolution walks node_modules folders on
 * disk, so it is remembered: the fallback logger asks on every event.
 */
function resolveAppWinston(): ResolvedWinston[] {
  const found: ResolvedWinston[] = [];
  for (const anchor of appAnchors()) {
    if (!resolvedByAnchor.has(anchor)) {
      const appRequire = createRequireFrom(anchor);
      let resolved: ResolvedWinston | undefined;
      try {
        resolved = { resolved: appRequire.resolve('winston'), cache: appRequire.cache };
      } catch {
        resolved = undefined;
      }
      resolvedByAnchor.set(anchor, resolved);
    }
    const resolved = resolvedByAnchor.get(anchor);
    if (resolved !== undefined) found.push(resolved);
  }
  return found;
}
