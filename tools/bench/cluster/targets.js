'use strict';
/**
 * The targets issues 8 and 20 set for lastcall, checked against the records of the run, each one
 * said plainly as met or missed.
 */
const { median } = require('./metrics');

function values(records, field) {
  return records.map((record) => record[field]).filter((value) => typeof value === 'number');
}

function verdict(isMet) {
  return isMet ? '**met**' : '**missed**';
}

/** Markdown lines: one per target, with the figure that decides it. */
function targetLines(records, of, steady) {
  const lines = ['## Targets for lastcall', ''];
  const add = (text) => lines.push(`- ${text}`);
  for (const scenario of ['R1', 'R2', 'C1', 'S1']) {
    const runs = of(scenario, 'lastcall');
    if (runs.length === 0) continue;
    const worst = Math.max(...values(runs, 'failed'));
    const extra =
      scenario === 'R2'
        ? `; long requests completed: ${Math.min(...values(runs, 'longCompleted'))} of 20 at worst`
        : '';
    const isMet =
      worst === 0 && (scenario !== 'R2' || Math.min(...values(runs, 'longCompleted')) === 20);
    add(
      `${scenario}, zero failed requests with the compliant client: ${verdict(isMet)} (at worst ${worst} in ${runs.length} runs${extra}).`,
    );
  }
  const r3 = of('R3', 'lastcall');
  if (r3.length > 0) {
    const isUp = r3.every((run) => run.failed === 0 && run.servingAfter >= 2);
    const isReported = r3.every((run) => run.reloadCode !== 0);
    add(
      `R3, the service never down and the restart reported failed: ${verdict(isUp && isReported)} (failed requests at worst ${Math.max(...values(r3, 'failed'))}; workers answering after, at least ${Math.min(...values(r3, 'servingAfter'))}; reload exit codes ${[...new Set(values(r3, 'reloadCode'))].join(', ')}).`,
    );
  }
  const c2 = of('C2', 'lastcall');
  if (c2.length > 0) {
    const worst = Math.max(...values(c2, 'failed'));
    const growing = c2.filter(
      (run) => typeof run.firstGapMs === 'number' && run.lastGapMs > run.firstGapMs,
    ).length;
    add(
      `C2, the other slot serves with zero failures and the delays grow: ${verdict(worst === 0 && growing === c2.length)} (failed at worst ${worst}; the gap between re-forks grew in ${growing} of ${c2.length} runs, median first ${median(values(c2, 'firstGapMs')) ?? '–'} ms, last ${median(values(c2, 'lastGapMs')) ?? '–'} ms; re-forks seen ${median(values(c2, 'reforksSeen'))}).`,
    );
  }
  const s2 = of('S2', 'lastcall');
  if (s2.length > 0) {
    const worst = Math.max(...values(s2, 'survivors'));
    add(
      `S2, zero survivors 2 s after the master is SIGKILLed: ${verdict(worst === 0)} (at worst ${worst}).`,
    );
  }
  // T0 is the throughput measure; the steady phases before the events are too short to compare.
  const rps = (manager) => median(values(of('T0', manager), 'rps'));
  if (rps('lastcall') !== undefined && rps('naive') !== undefined) {
    const ratio = rps('lastcall') / rps('naive');
    add(
      `Throughput within 5 % of the naive cluster: ${verdict(ratio >= 0.95)} (×${ratio.toFixed(3)}: ${Math.round(rps('lastcall'))} against ${Math.round(rps('naive'))} req/s, medians of ${of('T0', 'lastcall').length} T0 runs each; the load generator shares the 2 cores, so this is a coarse figure: [master.md](./master.md) measures the master alone).`,
    );
  }
  const rss = (manager) => median(values(steady(manager), 'supervisorRssMiB'));
  if (rss('lastcall') !== undefined && rss('pm2') !== undefined) {
    const ratio = rss('lastcall') / rss('pm2');
    const naive = rss('naive');
    add(
      `Master RSS at most half of pm2's daemon: ${verdict(ratio <= 0.5)} (${rss('lastcall').toFixed(1)} MiB against ${rss('pm2').toFixed(1)} MiB, ×${ratio.toFixed(2)}).` +
        (ratio > 0.5 && naive !== undefined
          ? ` Half of pm2's daemon is ${(rss('pm2') / 2).toFixed(1)} MiB, below the ${naive.toFixed(1)} MiB of the naive master, which loads nothing but \`node:cluster\`: no master that is a Node process reaches it here. What lastcall adds to a bare Node master is ${(rss('lastcall') - naive).toFixed(1)} MiB.`
          : ''),
    );
  }
  lines.push(...performanceLines(of, steady));
  lines.push('');
  return lines;
}

/** The performance targets of issue 20 that this bench measures. */
function performanceLines(of, steady) {
  const lines = ['', '### Performance (issue 20)', ''];
  const add = (text) => lines.push(`- ${text}`);
  const med = (scenario, manager, field) => median(values(of(scenario, manager), field));
  const c1 = med('C1', 'lastcall', 'replacementMs');
  const c1Naive = med('C1', 'naive', 'replacementMs');
  if (c1 !== undefined && c1Naive !== undefined) {
    add(
      `C1, a crash's replacement answers within the naive cluster's time + 50 ms: ${verdict(c1 <= c1Naive + 50)} (${Math.round(c1)} ms against ${Math.round(c1Naive)} ms, +${Math.round(c1 - c1Naive)} ms; the worker runtime's own start is measured alone in [worker-start.md](./worker-start.md)).`,
    );
  }
  const r1 = of('R1', 'lastcall');
  const r1Pm2 = of('R1', 'pm2');
  if (r1.length > 0 && r1Pm2.length > 0) {
    const lost = median(values(r1, 'lostRequests'));
    const lostPm2 = median(values(r1Pm2, 'lostRequests'));
    const failed = Math.max(...values(r1, 'failed'));
    const failedPm2 = Math.max(...values(r1Pm2, 'failed'));
    add(
      `R1, requests lost against steady throughput at most half of pm2's, at 0 failed: ${verdict(lost <= lostPm2 / 2 && failed === 0)} (lost ${Math.round(lost)} against pm2's ${Math.round(lostPm2)}, ×${(lost / lostPm2).toFixed(2)}; failed at worst ${failed}, pm2 ${failedPm2}).`,
    );
  }
  const rps = (manager) => median(values(of('T0', manager), 'rps'));
  if (rps('lastcall') !== undefined && rps('naive') !== undefined) {
    const ratio = rps('lastcall') / rps('naive');
    add(
      `T0, cluster throughput at least 0.98 of the naive cluster's: ${verdict(ratio >= 0.98)} (×${ratio.toFixed(3)}; see the spread in the T0 table).`,
    );
  }
  const rss = (manager) => median(values(steady(manager), 'supervisorRssMiB'));
  if (rss('lastcall') !== undefined && rss('naive') !== undefined) {
    const over = rss('lastcall') - rss('naive');
    add(
      `Master RSS within 3 MiB of a bare node:cluster master: ${verdict(over <= 3)} (${rss('lastcall').toFixed(1)} MiB against ${rss('naive').toFixed(1)} MiB, +${over.toFixed(1)} MiB; what that is made of: the notes below).`,
    );
  }
  return lines;
}

module.exports = { targetLines };
