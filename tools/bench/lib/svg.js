'use strict';
/**
 * A line chart as SVG text, drawn by the benches themselves (no dependency): one line per
 * manager or library, a legend on the right. The cluster bench charts completed requests per
 * 100 ms around an event; the terminator bench charts its scale curves against the socket count.
 */
const COLORS = ['#1b7837', '#c51b7d', '#e08214', '#2166ac', '#762a83', '#4d4d4d'];

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `lines`: [{ label, points: [[x, y], …] }]. `xTicks`: [{ x, label, isMarked }], a marked tick
 * drawn dashed (the event of a time line). `xMin` defaults to the smallest x; y starts at 0 and
 * a negative y is drawn at 0. `markers` draws a dot at every point.
 */
function lineChart({
  title,
  lines,
  xLabel,
  yLabel,
  xTicks,
  xMin: givenXMin,
  markers = false,
  strokeWidth = 1.6,
  marginLeft = 56,
  width = 760,
  height = 320,
}) {
  const margin = { top: 36, right: 170, bottom: 42, left: marginLeft };
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const ys = lines.flatMap((line) => line.points.map(([, y]) => y));
  const xMin = givenXMin ?? Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
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
  for (const tick of xTicks) {
    out.push(
      `<line x1="${sx(tick.x).toFixed(1)}" x2="${sx(tick.x).toFixed(1)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${tick.isMarked ? '#888' : '#f0f0f0'}"${tick.isMarked ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${sx(tick.x).toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle">${escape(tick.label)}</text>`,
    );
  }
  out.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  lines.forEach((line, index) => {
    const color = COLORS[index % COLORS.length];
    const d = line.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${strokeWidth}"/>`);
    if (markers) {
      for (const [x, y] of line.points) {
        out.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`,
        );
      }
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

/** Ticks every second of a time line in ms, the event (0) marked. */
function secondTicks(lines) {
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const ticks = [];
  for (let x = Math.ceil(xMin / 1000) * 1000; x <= xMax; x += 1000) {
    ticks.push({ x, label: `${x / 1000} s`, isMarked: x === 0 });
  }
  return ticks;
}

module.exports = { lineChart, secondTicks };
