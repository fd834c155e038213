/** Types of test-tally.js, so that the TypeScript tests can import it type-safely. */

/** How many checks passed and failed. */
export interface Tally {
  readonly passed: number;
  readonly failed: number;
}

/** The tally of one jest run, from its `--json` results and its exit code. */
export function tallyJest(results: unknown, exitCode: number | null): Tally;

/** The tally of a step that is one check: passed when it exited 0. */
export function tallyStep(exitCode: number | null): Tally;

/** The sum of some tallies. */
export function addTallies(tallies: readonly Tally[]): Tally;

/** The plain summary line CI reads: `12 passed, 0 failed`. */
export function summaryLine(tally: Tally): string;

/** A duration as people read it: `42 s`, `3 min 07 s`. */
export function formatDuration(ms: number): string;
