/**
 * Whether this process is a test runner's: jest, mocha or vitest. Told by the globals the runners
 * define in the process that runs the tests, not by `process.mainModule` (undefined under ES
 * modules) nor by environment variables, which the app processes a test spawns inherit.
 */
export function isInProcessTest(): boolean {
  const scope = globalThis as Record<string, unknown>;
  if (scope['__vitest_worker__'] !== undefined) return true;
  const isBdd = typeof scope['describe'] === 'function' && typeof scope['it'] === 'function';
  const isTdd = typeof scope['suite'] === 'function' && typeof scope['test'] === 'function';
  return isBdd || isTdd;
}
