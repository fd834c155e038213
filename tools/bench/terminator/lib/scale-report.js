'use strict';

// The scale curves (SC-* scenarios): one markdown section with a table per figure, and SVG line
// charts of time to close, longest event-loop block and tracked heap against the socket count.

const fs = require('node:fs');
const path = require('node:path');
const { lineChart } = require('../../lib/svg');

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
    const lines = chartSeries(results, chart);
    const counts = [...new Set(lines.flatMap((line) => line.points.map(([x]) => x)))];
    const svg = lineChart({
      title: chart.title,
      xLabel: 'idle keep-alive sockets',
      yLabel: chart.yLabel,
      lines,
      xMin: 0,
      xTicks: counts.sort((a, b) => a - b).map((x) => ({ x, label: `${x / 1000}k` })),
      markers: true,
      strokeWidth: 1.8,
      marginLeft: 64,
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

module.exports = { scaleSection, writeScaleCharts };
