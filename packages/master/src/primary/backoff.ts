import type { ResolvedBackoff } from './options';

/**
 * The delay before re-forking a slot after its `quickDeaths`-th death in a row within
 * `stableAfter` (1 for the first; one fewer for a worker that had become ready, see
 * `Slot.decide`): `initial × factor^(quickDeaths − 1)`, capped at `max`, then
 * varied by ± `jitter` so that slots dying together do not come back together.
 */
export function backoffDelay(
  backoff: ResolvedBackoff,
  quickDeaths: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    backoff.max,
    backoff.initial * backoff.factor ** Math.max(0, quickDeaths - 1),
  );
  const varied = base * (1 + backoff.jitter * (2 * random() - 1));
  return Math.round(Math.min(backoff.max, Math.max(0, varied)));
}
