'use strict';
/** What one run measured, from the load's records and the event's times (ms since load start). */

const BUCKET_MS = 100;

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Completed (2xx) requests per 100 ms, by the time they completed. */
function buckets(records, untilMs) {
  const counts = new Array(Math.ceil(untilMs / BUCKET_MS)).fill(0);
  for (const record of records) {
    if (record.kind !== 'ok') continue;
    const index = Math.floor(record.end / BUCKET_MS);
    if (index >= 0 && index < counts.length) counts[index] += 1;
  }
  return counts;
}

/**
 * The run's figures. `steadyFrom`..`eventAt` is the steady state before the event;
 * `eventAt`..`eventEnd` the event window (at least 1 s).
 */
function summarize(records, { steadyFrom, eventAt, eventEnd, endAt }) {
  const failures = { reset: 0, timeout: 0, non2xx: 0, refused: 0, other: 0 };
  for (const record of records) {
    if (record.kind === 'ok') continue;
    if (record.kind in failures) failures[record.kind] += 1;
    else failures.other += 1;
  }
  const windowEnd = Math.max(eventEnd, eventAt + 1000);
  const series = buckets(records, endAt);
  const first = Math.floor(steadyFrom / BUCKET_MS);
  const eventFirst = Math.floor(eventAt / BUCKET_MS);
  const eventLast = Math.min(series.length, Math.ceil(windowEnd / BUCKET_MS));
  const steady = median(series.slice(first, eventFirst)) ?? 0;
  let lost = 0;
  let lowest = Infinity;
  for (let index = eventFirst; index < eventLast; index += 1) {
    lost += Math.max(0, steady - series[index]);
    lowest = Math.min(lowest, series[index]);
  }
  const latencies = (from, to) =>
    records
      .filter((r) => r.kind === 'ok' && r.start >= from && r.start < to)
      .map((r) => r.end - r.start);
  let slowest = 0;
  for (const record of records)
    if (record.kind === 'ok') slowest = Math.max(slowest, record.end - record.start);
  return {
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    completed: records.filter((r) => r.kind === 'ok').length,
    steadyRps: (steady * 1000) / BUCKET_MS,
    dipPct:
      steady > 0 && Number.isFinite(lowest) ? Math.round((100 * (steady - lowest)) / steady) : 0,
    lostRequests: Math.round(lost),
    p99Steady: percentile(latencies(steadyFrom, eventAt), 99),
    p99Event: percentile(latencies(eventAt, windowEnd), 99),
    slowestMs: slowest,
    series,
  };
}

/** RSS (MiB) and CPU time (ms) of a process, from /proc; undefined when it is gone. */
function processUsage(pid) {
  const fs = require('node:fs');
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssMiB: rssKiB / 1024, cpuMs: (ticks * 1000) / 100 };
  } catch {
    return undefined;
  }
}

module.exports = { BUCKET_MS, median, percentile, summarize, processUsage };
