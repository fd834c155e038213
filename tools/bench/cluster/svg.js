'use strict';
/**
 * A line chart as SVG text, drawn by the harness itself: completed requests per 100 ms around
 * an event, one line per manager.
 */
const COLORS = ['#1b7837', '#c51b7d', '#e08214', '#2166ac', '#762a83', '#4d4d4d'];

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `lines`: [{ label, points: [[xMs, y], …] }]; x is ms relative to the event (0).
 */
function lineChart({ title, lines, xLabel, yLabel, width = 760, height = 320 }) {
  const margin = { top: 36, right: 170, bottom: 42, left: 56 };
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const ys = lines.flatMap((line) => line.points.map(([, y]) => y));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const yMax = Math.max(1, ...ys) * 1.1;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const sy = (y) => margin.top + plotH - (y / yMax) * plotH;
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
  for (let x = Math.ceil(xMin / 1000) * 1000; x <= xMax; x += 1000) {
    out.push(
      `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${x === 0 ? '#888' : '#f0f0f0'}"${x === 0 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${sx(x).toFixed(1)}" y="${margin.top + plotH + 16}" text-anchor="middle">${x / 1000} s</text>`,
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
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    const ly = margin.top + 14 + index * 18;
    out.push(
      `<line x1="${width - margin.right + 12}" x2="${width - margin.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 38}" y="${ly}">${escape(line.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { lineChart };
