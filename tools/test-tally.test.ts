/** The counting behind the `N passed, N failed` line that `npm test` ends with. */
import { addTallies, formatDuration, summaryLine, tallyJest, tallyStep } from './lib/test-tally';

describe('tallyJest', () => {
  it('counts passed and failed tests, and a suite that failed to run as one failed', () => {
    const results = { numPassedTests: 40, numFailedTests: 2, numRuntimeErrorTestSuites: 1 };
    expect(tallyJest(results, 1)).toEqual({ passed: 40, failed: 3 });
  });

  it('counts a green run as it is', () => {
    expect(tallyJest({ numPassedTests: 7, numFailedTests: 0 }, 0)).toEqual({
      passed: 7,
      failed: 0,
    });
  });

  it('never reports 0 failed for a run that exited non-zero', () => {
    expect(tallyJest({ numPassedTests: 7, numFailedTests: 0 }, 1)).toEqual({
      passed: 7,
      failed: 1,
    });
    expect(tallyJest(undefined, null)).toEqual({ passed: 0, failed: 1 });
    expect(tallyJest({ numPassedTests: 'x', numFailedTests: -3 }, 1)).toEqual({
      passed: 0,
      failed: 1,
    });
  });
});

describe('tallies and lines', () => {
  it('adds steps and prints the plain summary line', () => {
    const total = addTallies([
      tallyStep(0),
      tallyStep(2),
      tallyStep(null),
      { passed: 5, failed: 0 },
    ]);
    expect(total).toEqual({ passed: 6, failed: 2 });
    expect(summaryLine(total)).toBe('6 passed, 2 failed');
    expect(summaryLine(addTallies([]))).toBe('0 passed, 0 failed');
  });

  it('prints durations in seconds, then minutes and seconds', () => {
    expect(formatDuration(41_600)).toBe('42 s');
    expect(formatDuration(187_000)).toBe('3 min 07 s');
  });
});
