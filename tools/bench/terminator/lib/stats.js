'use strict';

const { shuffle } = require('../../lib/shuffle');

// Order statistics over the repetitions of one library × scenario × metric.

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** { n, missing, median, min, max, q1, q3 } of the finite numbers in `values`. */
function summarize(values) {
  const numbers = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  const sorted = [...numbers].sort((a, b) => a - b);
  return {
    n: sorted.length,
    missing: values.length - sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted.length ? sorted[0] : null,
    max: sorted.length ? sorted[sorted.length - 1] : null,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

/** Per key, the summary of that key's counts across runs (absent key = 0). */
function summarizeCounts(records) {
  const keys = new Set(records.flatMap((record) => Object.keys(record || {})));
  const result = {};
  for (const key of [...keys].sort()) {
    result[key] = summarize(records.map((record) => (record && record[key]) || 0));
  }
  return result;
}

module.exports = { summarize, summarizeCounts, shuffle };
