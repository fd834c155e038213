/** Types of node-lines.js, so that the TypeScript tests can import it type-safely. */

/** A supported Node.js line, and the release of it the matrix runs. */
export interface NodeLine {
  readonly major: number;
  readonly version: string;
  readonly status: string;
}

/** The lines the test matrix runs besides the machine's own Node. */
export const NODE_LINES: readonly NodeLine[];

/** The oldest Node.js the packages declare in `engines`. */
export const OLDEST_SUPPORTED: string;

/** The folder the Node binaries are unpacked into. */
export function cacheDir(root: string, env?: NodeJS.ProcessEnv): string;

/** The registry package that ships Node's binary for a platform and architecture. */
export function binaryPackage(platform?: NodeJS.Platform, arch?: string): string;

/** The path of `version`'s node binary in the cache, fetched and unpacked first when missing. */
export function ensureNodeBinary(version: string, cache: string): string;

/** The environment of a process that must run on `binary` throughout. */
export function envForNode(binary: string, base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;

/** The pinned lines whose major differs from `currentVersion`'s. */
export function otherLines(currentVersion: string, lines?: readonly NodeLine[]): NodeLine[];
