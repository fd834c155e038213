'use strict';

// The performance targets of issue 20 that this bench measures, each with its figures from the
// same run and whether it was met. A target that a baseline shows to sit past what the machine
// can do says so, with that baseline beside it.

const { LIBRARY_NAMES } = require('../adapters');

const PEERS = LIBRARY_NAMES.filter((name) => name !== 'lastcall');

function stat(results, id, lib, key) {
  const entry = results.summary[id] && results.summary[id][lib];
  const value = entry && entry.metrics && entry.metrics[key];
  return value && value.n > 0 ? value : null;
}

function median(results, id, lib, key) {
  const value = stat(results, id, lib, key);
  return value === null ? null : value.median;
}

function ms(value) {
  if (value === null) return '–';
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

/** The peer with the lowest median of `key` in scenario `id`, or null. */
function fastestPeer(results, id, key) {
  let best = null;
  for (const lib of PEERS) {
    const value = median(results, id, lib, key);
    if (value !== null && (best === null || value < best.value)) best = { lib, value };
  }
  return best;
}

function verdict(isMet) {
  if (isMet === null) return 'not measured';
  return isMet ? '**met**' : '**missed**';
}

function versusFastest(results, id, key, label) {
  const mine = median(results, id, 'lastcall', key);
  const best = fastestPeer(results, id, key);
  if (mine === null || best === null) return null;
  const batched = median(results, id, 'destroy-batched', key);
  const all = median(results, id, 'destroy-all', key);
  const limits = [
    all === null ? null : `destroy-all ${ms(all)}`,
    batched === null ? null : `destroy-batched ${ms(batched)} (×${(mine / batched).toFixed(2)})`,
  ].filter(Boolean);
  return [
    `${id}: ${label} ≤ the fastest peer's (×≤ 1.00)`,
    `${ms(mine)} against ${best.lib} ${ms(best.value)}: ×${(mine / best.value).toFixed(2)}`,
    limits.join('; ') || '–',
    verdict(mine <= best.value),
  ];
}

function stallTarget(results, id) {
  const mine = median(results, id, 'lastcall', 'stallMs');
  const best = fastestPeer(results, id, 'stallMs');
  if (mine === null || best === null) return null;
  return [
    `${id}: longest event-loop block ≤ ⅓ of the peers' (×≤ 0.33)`,
    `${ms(mine)} against the lowest peer's, ${best.lib} ${ms(best.value)}: ×${(mine / best.value).toFixed(2)}`,
    '–',
    verdict(mine <= best.value / 3),
  ];
}

function resetTarget(results, id) {
  const value = stat(results, id, 'lastcall', 'idleRst');
  if (value === null) return null;
  return [
    `${id}: FIN, never RST`,
    `${value.max} sockets reset at most`,
    '–',
    verdict(value.max === 0),
  ];
}

function lagTarget(results, id) {
  const mine = median(results, id, 'lastcall', 'closeLagMs');
  if (mine === null) return null;
  const best = fastestPeer(results, id, 'closeLagMs');
  const noGrace = median(results, id, 'lastcall-idle-grace-0', 'closeLagMs');
  const noGraceDropped = median(results, 'S2', 'lastcall-idle-grace-0', 'dropped');
  const limit =
    noGrace === null
      ? '–'
      : `\`idleGrace: 0\` ${ms(noGrace)}` +
        (noGraceDropped === null ? '' : `, but S2 then drops ${noGraceDropped} (0 with the grace)`);
  return [
    `${id}: close − last completion ≤ 2 ms`,
    `${ms(mine)}${best === null ? '' : ` (fastest peer ${best.lib} ${ms(best.value)})`}`,
    limit,
    verdict(mine <= 2),
  ];
}

function scaleTargets(results) {
  const ids = results.scenarios.filter((s) => s.id.startsWith('SC-')).map((s) => s.id);
  const rows = [];
  const points = ids
    .map((id) => {
      const scenario = results.scenarios.find((s) => s.id === id);
      return {
        id,
        count: scenario.params.idle,
        close: median(results, id, 'lastcall', 'timeToCloseMs'),
      };
    })
    .filter((point) => point.close !== null);
  if (points.length >= 2) {
    const perSocket = points.map((point) => point.close / point.count);
    const first = points[0];
    const last = points[points.length - 1];
    const ratio = perSocket[perSocket.length - 1] / perSocket[0];
    rows.push([
      'scale: time to close grows linearly with the sockets (time per socket does not grow)',
      `${((first.close / first.count) * 1000).toFixed(0)} µs a socket at ${first.count}, ` +
        `${((last.close / last.count) * 1000).toFixed(0)} µs at ${last.count} (×${ratio.toFixed(2)})`,
      '–',
      verdict(ratio <= 1.25),
    ]);
  }
  const bytes = (id, lib) => {
    const mine = median(results, id, lib, 'heapPerConnection');
    const bare = median(results, id, 'bare', 'heapPerConnection');
    return mine === null || bare === null ? null : mine - bare;
  };
  for (const peer of ['http-terminator', 'stoppable']) {
    const pairs = ids
      .map((id) => ({ id, mine: bytes(id, 'lastcall'), theirs: bytes(id, peer) }))
      .filter((pair) => pair.mine !== null && pair.theirs !== null);
    if (pairs.length === 0) continue;
    rows.push([
      `scale: tracked heap per connection ≤ ${peer}'s at every point`,
      pairs
        .map((pair) => `${pair.id} ${Math.round(pair.mine)} B vs ${Math.round(pair.theirs)} B`)
        .join('; '),
      '–',
      verdict(pairs.every((pair) => pair.mine <= pair.theirs)),
    ]);
  }
  return rows;
}

function cpuTarget(results) {
  const mine = stat(results, 'CPU', 'lastcall', 'cpuMicrosPerRequest');
  const bare = stat(results, 'CPU', 'bare', 'cpuMicrosPerRequest');
  if (mine === null || bare === null) return null;
  return [
    "CPU: server CPU per request within the bare server's own spread",
    `${mine.median.toFixed(1)} µs against bare ${bare.median.toFixed(1)} [${bare.min.toFixed(1)}–${bare.max.toFixed(1)}] µs (×${(mine.median / bare.median).toFixed(2)})`,
    '–',
    verdict(mine.median >= bare.min && mine.median <= bare.max),
  ];
}

/** The markdown section of the targets, or '' when the run measured none of them. */
function targetsSection(results) {
  const rows = [
    versusFastest(results, 'S1-10k', 'timeToCloseMs', 'time to close (server)'),
    versusFastest(results, 'S1-10k', 'idleClosedMs', 'last FIN seen by a client'),
    stallTarget(results, 'S1-10k'),
    resetTarget(results, 'S1-10k'),
    lagTarget(results, 'S1'),
    lagTarget(results, 'S4'),
    ...scaleTargets(results),
    cpuTarget(results),
  ].filter(Boolean);
  if (rows.length === 0) return '';
  return [
    '## Targets',
    '',
    "The performance targets this bench measures (issue 20), from this run's medians. " +
      '"Limit" is a baseline measured in the same run: `destroy-all` destroys every socket in ' +
      'one loop and protects nothing; `destroy-batched` does the same with the event loop held ' +
      'at most 8 ms at a time, the least work a close can take under the block target.',
    '',
    '| target | measured | limit | verdict |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

module.exports = { targetsSection };
