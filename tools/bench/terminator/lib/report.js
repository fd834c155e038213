'use strict';

// Writes docs/benchmarks/terminator.md from the results object (the same object as the JSON).

const fs = require('node:fs');
const path = require('node:path');

const { scaleSection } = require('./scale-report');

const { targetsSection } = require('./targets');
const { BASELINES } = require('../adapters');

const NOTES_FILE = path.join(__dirname, '..', 'what-we-saw.md');

function formatNumber(value, unit) {
  if (value === null || value === undefined) return '–';
  if (unit === '%') return `${Math.round(value)} %`;
  if (unit === 'ms' || unit === 'µs') {
    const digits = Math.abs(value) >= 100 ? 0 : 1;
    return value.toFixed(digits);
  }
  if (unit === 'req/s') return String(Math.round(value));
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function formatRatio(ratio) {
  if (!Number.isFinite(ratio)) return '';
  return ratio >= 10 ? `×${Math.round(ratio)}` : `×${ratio.toFixed(ratio >= 2 ? 1 : 2)}`;
}

/** "median [min–max]", with the share of runs where the figure could not be measured. */
function formatSummary(stat, unit) {
  if (!stat || stat.n === 0) return '–';
  let text = formatNumber(stat.median, unit);
  if (stat.min !== stat.max) {
    text += ` [${formatNumber(stat.min, unit)}–${formatNumber(stat.max, unit)}]`;
  }
  if (stat.missing > 0) text += ` (– in ${stat.missing})`;
  return text;
}

function formatCodes(counts) {
  const parts = [];
  for (const [code, stat] of Object.entries(counts || {})) {
    if (stat.max === 0) continue;
    const range = stat.min === stat.max ? '' : ` [${stat.min}–${stat.max}]`;
    parts.push(`${code} ×${formatNumber(stat.median)}${range}`);
  }
  return parts.length ? parts.join(', ') : '–';
}

function cell(results, scenario, lib, column, footnotes) {
  const entry = results.summary[scenario.id][lib];
  if (!entry) return '';
  if (entry.na) {
    footnotes.push(`${lib}: n/a — ${entry.na}`);
    return 'n/a';
  }
  if (column.kind === 'codes') return formatCodes(entry.counts[column.key]);
  const stat = entry.metrics[column.key];
  let text = formatSummary(stat, column.unit);
  const reference = column.bareRatio
    ? 'bare'
    : column.ratio && lib !== 'lastcall'
      ? 'lastcall'
      : null;
  const base = reference && results.summary[scenario.id][reference];
  const baseStat = base && base.metrics && base.metrics[column.key];
  // A ratio against a sub-millisecond median is noise, not information.
  const minimum = column.unit === 'ms' ? 1 : 0;
  if (stat && stat.n > 0 && baseStat && baseStat.n > 0 && baseStat.median > minimum) {
    if (!(column.bareRatio && lib === 'bare')) {
      text += ` (${formatRatio(stat.median / baseStat.median)}${column.bareRatio ? ' bare' : ''})`;
    }
  }
  return text;
}

function scenarioTable(results, scenario) {
  const libs = Object.keys(results.summary[scenario.id]);
  const columns = [...scenario.columns];
  const hasClosed = libs.some((lib) => {
    const entry = results.summary[scenario.id][lib];
    return entry.metrics && entry.metrics.closed;
  });
  const header = ['library', ...columns.map((column) => `${column.label} (${column.unit})`)];
  if (hasClosed) header.push('closed in time');
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const footnotes = [];
  for (const lib of libs) {
    const entry = results.summary[scenario.id][lib];
    const cells = columns.map((column) => cell(results, scenario, lib, column, footnotes));
    if (hasClosed) cells.push(entry.na ? 'n/a' : closedInTime(results, scenario, lib));
    if (entry.errors && entry.errors.length) {
      footnotes.push(`${lib}: ${entry.errors.length} run(s) failed: ${entry.errors[0]}`);
    }
    lines.push(`| ${lib} | ${cells.join(' | ')} |`);
  }
  const uniqueNotes = [...new Set(footnotes)];
  if (uniqueNotes.length === 0) return lines.join('\n');
  return [...lines, '', ...uniqueNotes.map((note) => `- ${note}`)].join('\n');
}

/** "closed runs/all runs": runs where the library reported the close within grace + 2 s. */
function closedInTime(results, scenario, lib) {
  const runs = results.runs.filter((run) => run.scenario === scenario.id && run.lib === lib);
  const closed = runs.filter((run) => run.metrics && run.metrics.closed === 1).length;
  return `${closed}/${runs.length}`;
}

/** Libraries × scenarios: median dropped / median client resets per run. */
function headlineTable(results) {
  const scenarios = results.scenarios.filter((scenario) =>
    scenario.columns.some((column) => column.key === 'dropped'),
  );
  const header = ['library', ...scenarios.map((scenario) => scenario.id)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const lib of results.libraries.map((library) => library.name)) {
    if (BASELINES.includes(lib)) continue;
    const cells = scenarios.map((scenario) => {
      const entry = results.summary[scenario.id][lib];
      if (!entry) return '';
      if (entry.na) return 'n/a';
      const dropped = entry.metrics.dropped;
      const resets = entry.metrics.resets;
      if (!dropped || dropped.n === 0) return 'error';
      return `${formatNumber(dropped.median)} / ${resets ? formatNumber(resets.median) : '–'}`;
    });
    lines.push(`| ${lib} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Every library × scenario where a request was dropped or reset in at least one run. */
function failureList(results) {
  const lines = [];
  for (const scenario of results.scenarios) {
    for (const [lib, entry] of Object.entries(results.summary[scenario.id])) {
      if (!entry.metrics) continue;
      const dropped = entry.metrics.dropped;
      const resets = entry.metrics.resets;
      if ((dropped && dropped.max > 0) || (resets && resets.max > 0)) {
        lines.push(
          `- ${scenario.id} ${lib}: dropped ${formatSummary(dropped)}, resets ${formatSummary(resets)}` +
            (entry.counts.errorCodes && Object.keys(entry.counts.errorCodes).length
              ? `; client errors ${formatCodes(entry.counts.errorCodes)}`
              : ''),
        );
      }
    }
  }
  return lines.length ? lines.join('\n') : '- none';
}

function renderMarkdown(results) {
  const { meta } = results;
  const versions = results.libraries
    .map((library) => `| ${library.name} | ${library.version} | ${library.driven} |`)
    .join('\n');
  const sections = results.scenarios
    .filter((scenario) => !scenario.id.startsWith('SC-'))
    .map((scenario) =>
      [
        `### ${scenario.id} — ${scenario.title}`,
        '',
        scenario.description,
        '',
        scenarioTable(results, scenario),
      ].join('\n'),
    );
  const notes = fs.existsSync(NOTES_FILE) ? fs.readFileSync(NOTES_FILE, 'utf8').trim() : '';
  return `# @lastcall/terminator — side-by-side shutdown benchmark

Generated by \`tools/bench/terminator/run.js\`; do not edit by hand (the "What we saw" section comes
from \`tools/bench/terminator/what-we-saw.md\`). Raw data: [terminator.json](./terminator.json).

Every run starts a fresh server process (one library, one scenario), puts it in the scenario's
state with real clients over 127.0.0.1, asks the library to shut the server down, and records what
the clients saw and what the server did. Libraries are interleaved in a shuffled order within each
repetition. Cells are **median [min–max]** over the repetitions; \`(×N)\` is the ratio of the
median to lastcall's (or to the bare server's for CPU), shown only where lastcall's median is above
1 ms. \`–\` means not measurable in that run (nothing completed during the drain, or the server did
not close within the library's grace + 2 s).

- Command: \`${meta.command}\`
- Node ${meta.node} on ${meta.platform}, ${meta.cpus} × ${meta.cpuModel}
- Date: ${meta.date}; ${meta.reps} repetitions${meta.mode === 'default' ? '' : ` (${meta.mode} mode)`}; total ${(meta.durationMs / 60000).toFixed(1)} min

| library | version | how it was driven |
|---|---|---|
${versions}

## Headline: requests dropped / client resets (median per run)

${headlineTable(results)}

${targetsSection(results)}

## Scenarios

${sections.join('\n\n')}

${scaleSection(results)}

## Every dropped or reset request measured

${failureList(results)}

## What we saw

${notes || '_(no notes)_'}

## Definitions

- **dropped**: a request the client sent that never got a complete response (for S2, one per
  client loop, which stops at its first failure; ECONNREFUSED after the listener closed is not a drop).
- **client resets**: dropped requests whose connection ended with ECONNRESET/EPIPE, or with a FIN
  before the response ("other side closed", "socket hang up").
- **close − last completion**: server clock, from the last response \`finish\` during the drain to the
  moment the library reported the server closed (its promise or callback).
- **time to close**: from the \`terminate\` call to that same moment.
- **\`Connection: close\` on drain responses**: share of responses finished during the drain whose
  head, as written to the socket, carried \`Connection: close\` (HTTP/1 only).
- **server CPU per request**: \`process.cpuUsage()\` delta (user + system) of the server process over the
  measured window divided by the requests it received in that window.
`;
}

module.exports = { renderMarkdown };
