'use strict';

// The scale curves (SC-* scenarios): one markdown section with a table per figure, and SVG line
// charts of time to close, longest event-loop block and tracked heap against the socket count.

const fs = require('node:fs');
const path = require('node:path');

const COLORS = ['#1b7837', '#c51b7d', '#e08214', '#2166ac', '#762a83', '#4d4d4d'];

/** The charts, each a file written next to terminator.md. */
const CHARTS = [
  {
    file: 'terminator-scale-close.svg',
    title: 'Time to close N idle keep-alive sockets (median)',
    yLabel: 'ms',
    value: (results, id, lib) => median(results, id, lib, 'timeToCloseMs'),
  },
  {
    file: 'terminator-scale-block.svg',
    title: 'Longest event-loop block, terminate() to close (median)',
    yLabel: 'ms',
    value: (results, id, lib) => median(results, id, lib, 'stallMs'),
  },
  {
    file: 'terminator-scale-heap.svg',
    title: 'Tracked heap per connection: library minus bare server (median)',
    yLabel: 'bytes',
    value: trackedBytes,
  },
];

function scaleScenarios(results) {
  return results.scenarios.filter((scenario) => scenario.id.startsWith('SC-'));
}

function median(results, id, lib, key) {
  const entry = results.summary[id] && results.summary[id][lib];
  const stat = entry && entry.metrics && entry.metrics[key];
  return stat && stat.n > 0 ? stat.median : null;
}

/** Heap per connection with the library attached minus the bare server's, in bytes. */
function trackedBytes(results, id, lib) {
  const mine = median(results, id, lib, 'heapPerConnection');
  const bare = median(results, id, 'bare', 'heapPerConnection');
  return mine === null || bare === null ? null : mine - bare;
}

function curveLibraries(results) {
  const names = new Set();
  for (const scenario of scaleScenarios(results)) {
    for (const lib of Object.keys(results.summary[scenario.id] || {})) {
      if (lib !== 'bare') names.add(lib);
    }
  }
  return [...names];
}

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A line chart as SVG text; `series`: [{ label, points: [[x, y], …] }], x and y ≥ 0. */
function lineChart({ title, xLabel, yLabel, series, width = 760, height = 320 }) {
  const margin = { top: 36, right: 170, bottom: 42, left: 64 };
  const xs = series.flatMap((line) => line.points.map(([x]) => x));
  const ys = series.flatMap((line) => line.points.map(([, y]) => y));
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + (x / xMax) * plotW;
  const sy = (y) => margin.top + plotH - (Math.max(0, y) / yMax) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let step = 0; step <= 4; step += 1) {
    const y = (yMax * step) / 4;
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#e0e0e0"/>`,
      `<text x="${margin.left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${Math.round(y)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${sx(x).toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle">${x / 1000}k</text>`,
    );
  }
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  series.forEach((line, index) => {
    const color = COLORS[index % COLORS.length];
    const d = line.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    for (const [x, y] of line.points) {
      out.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`,
      );
    }
    const ly = margin.top + 14 + index * 18;
    out.push(
      `<line x1="${width - margin.right + 12}" x2="${width - margin.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 38}" y="${ly}">${escape(line.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function chartSeries(results, chart) {
  return curveLibraries(results)
    .map((lib) => ({
      label: lib,
      points: scaleScenarios(results)
        .map((scenario) => [scenario.params.idle, chart.value(results, scenario.id, lib)])
        .filter(([, y]) => y !== null),
    }))
    .filter((line) => line.points.length > 0);
}

/** Writes the SVG charts next to terminator.md; nothing when the run had no scale point. */
function writeScaleCharts(dir, results) {
  if (scaleScenarios(results).length === 0) return;
  for (const chart of CHARTS) {
    const svg = lineChart({
      title: chart.title,
      xLabel: 'idle keep-alive sockets',
      yLabel: chart.yLabel,
      series: chartSeries(results, chart),
    });
    fs.writeFileSync(path.join(dir, chart.file), svg);
  }
}

function formatCell(value, unit) {
  if (value === null || value === undefined) return '–';
  if (unit === 'B') return String(Math.round(value));
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** Median with its ratio to the fastest other library at the same point. */
function withRatio(results, id, lib, key) {
  const mine = median(results, id, lib, key);
  if (mine === null) return '–';
  const others = curveLibraries(results)
    .filter((name) => name !== lib && !name.startsWith('destroy-'))
    .map((name) => median(results, id, name, key))
    .filter((value) => value !== null);
  if (lib !== 'lastcall' || others.length === 0) return formatCell(mine, 'ms');
  const best = Math.min(...others);
  return best > 0 ? `${formatCell(mine, 'ms')} (×${(mine / best).toFixed(2)})` : formatCell(mine);
}

function pivotTable(results, title, cellOf) {
  const scenarios = scaleScenarios(results);
  const header = ['library', ...scenarios.map((scenario) => `${scenario.params.idle / 1000}k`)];
  const lines = [
    `**${title}**`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
  ];
  for (const lib of curveLibraries(results)) {
    const cells = scenarios.map((scenario) => {
      const entry = results.summary[scenario.id] && results.summary[scenario.id][lib];
      if (!entry) return '';
      if (entry.na) return 'n/a';
      return cellOf(scenario.id, lib);
    });
    lines.push(`| ${lib} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The markdown section of the scale curves, or '' when the run had none. */
function scaleSection(results) {
  const scenarios = scaleScenarios(results);
  if (scenarios.length === 0) return '';
  const notes = new Set();
  for (const scenario of scenarios) {
    for (const [lib, entry] of Object.entries(results.summary[scenario.id] || {})) {
      if (entry.na) notes.add(`${scenario.id}: n/a — ${entry.na}`);
      if (entry.errors && entry.errors.length) {
        notes.add(
          `${scenario.id} ${lib}: ${entry.errors.length} run(s) failed: ${entry.errors[0]}`,
        );
      }
      const rst = entry.metrics && entry.metrics.idleRst;
      if (rst && rst.max > 0) notes.add(`${scenario.id} ${lib}: up to ${rst.max} sockets reset`);
    }
  }
  const repsNote = scenarios.map((scenario) => `${scenario.id} ${scenario.params.reps}`).join(', ');
  return [
    '## Scale curves',
    '',
    'N idle keep-alive sockets (each served one request), nothing in flight, N from 1,000 to ' +
      '50,000; lastcall, http-terminator, stoppable and Node core, plus two baselines: the bare ' +
      'server (no library) for memory, `destroy-all` (closes the listener, then destroys ' +
      'every socket in one loop, protecting nothing) for the least work a close can take on ' +
      'this machine, and `destroy-batched` (the same in batches of at most 8 ms, one ' +
      '`setImmediate` apart) for the least it can take with the event loop never held longer. Medians; `(×N)` is lastcall against the fastest library (not baseline) at ' +
      'that point. **Tracked heap per connection** is the heap in use after two full ' +
      'collections (`--expose-gc`), after the sockets were opened minus before, per socket, with ' +
      "the library attached, minus the bare server's same figure. **Longest event-loop block** is " +
      'the longest gap of a 1 ms timer in the server from `terminate()` to the close (±1 ms), for ' +
      `every library alike. Repetitions per point: ${repsNote}.`,
    '',
    '![time to close against idle sockets](./terminator-scale-close.svg)',
    '',
    '![longest event-loop block against idle sockets](./terminator-scale-block.svg)',
    '',
    '![tracked heap per connection against idle sockets](./terminator-scale-heap.svg)',
    '',
    pivotTable(results, 'time to close (ms)', (id, lib) =>
      withRatio(results, id, lib, 'timeToCloseMs'),
    ),
    '',
    pivotTable(results, 'longest event-loop block, terminate() to close (ms)', (id, lib) =>
      withRatio(results, id, lib, 'stallMs'),
    ),
    '',
    pivotTable(results, 'last FIN seen by a client (ms)', (id, lib) =>
      withRatio(results, id, lib, 'idleClosedMs'),
    ),
    '',
    pivotTable(results, 'tracked heap per connection (bytes)', (id, lib) =>
      formatCell(trackedBytes(results, id, lib), 'B'),
    ),
    ...(notes.size ? ['', ...[...notes].map((note) => `- ${note}`)] : []),
  ].join('\n');
}

module.exports = { scaleSection, writeScaleCharts, lineChart };
