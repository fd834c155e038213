/** Types of check-packages-lib.js, so that the TypeScript tests can import it type-safely. */

/** What {@link checkPackages} found. */
export interface CheckPackagesResult {
  /** The names of the packages under packages/*, in folder order. */
  readonly packages: string[];
  /** One human-readable line per broken convention; empty when all is in order. */
  readonly problems: string[];
}

/** Checks every package under `<root>/packages` against the repo conventions. */
export function checkPackages(root: string): CheckPackagesResult;

/** Finds one cycle in a directed graph; the returned path starts and ends on the same node. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined;

/** Removes comments and trailing commas from tsconfig-style JSON text. */
export function stripJsonComments(text: string): string;
