'use strict';

/**
 * Counting for `npm test` (tools/test.js): each step is one check, except jest, which counts its
 * tests. What a step that failed without a count is worth is spelled out here, so that the
 * printed `N passed, N failed` never says 0 failed for a red run.
 */

/**
 * @typedef {{ passed: number, failed: number }} Tally
 */

/**
 * The tally of one jest run, from its `--json` results (undefined when jest wrote none) and its
 * exit code. A suite that failed to run counts as one failed test; a run that exited non-zero
 * with no failed test (a crash, a failed global setup) counts as one failed.
 * @param {unknown} results the parsed --outputFile, or undefined
 * @param {number | null} exitCode
 * @returns {Tally}
 */
function tallyJest(results, exitCode) {
  const fields =
    results !== null && typeof results === 'object'
      ? /** @type {Record<string, unknown>} */ (results)
      : {};
  const count = (key) => {
    const value = fields[key];
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
  };
  const passed = count('numPassedTests');
  let failed = count('numFailedTests') + count('numRuntimeErrorTestSuites');
  if (exitCode !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

/**
 * The tally of a step that is one check: passed when it exited 0.
 * @param {number | null} exitCode
 * @returns {Tally}
 */
function tallyStep(exitCode) {
  return exitCode === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/**
 * The sum of some tallies.
 * @param {readonly Tally[]} tallies
 * @returns {Tally}
 */
function addTallies(tallies) {
  return tallies.reduce(
    (sum, tally) => ({ passed: sum.passed + tally.passed, failed: sum.failed + tally.failed }),
    { passed: 0, failed: 0 },
  );
}

/**
 * The plain summary line CI reads: `12 passed, 0 failed`.
 * @param {Tally} tally
 * @returns {string}
 */
function summaryLine(tally) {
  return `${String(tally.passed)} passed, ${String(tally.failed)} failed`;
}

/**
 * A duration as people read it: `42 s`, `3 min 07 s`.
 * @param {number} ms
 * @returns {string}
 */
function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${String(seconds)} s`;
  const rest = seconds % 60;
  return `${String(Math.floor(seconds / 60))} min ${String(rest).padStart(2, '0')} s`;
}

module.exports = { addTallies, formatDuration, summaryLine, tallyJest, tallyStep };
