'use strict';

// What the benchmarks of tools/bench share: the machine line of a report, where and how a
// markdown report is written, and a free port on 127.0.0.1.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** `Node v20… on linux … x64, 2 × <cpu model>`. */
function machineLine() {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown').trim();
  return `Node ${process.version} on ${os.platform()} ${os.release()} ${os.arch()}, ${cpus.length} × ${model}`;
}

/**
 * Writes `lines` as `fileName`, formatted with the repo's prettier settings so that
 * `npm run lint` accepts it: into `out` when given, else docs/benchmarks for a run without
 * options (the committed results), else $TMPDIR/<tmpName>. Returns the path written.
 */
async function writeMarkdownReport({ lines, fileName, argv, out, tmpName }) {
  const outDir = out
    ? path.resolve(out)
    : argv.length === 0
      ? path.join(REPO_ROOT, 'docs', 'benchmarks')
      : path.join(os.tmpdir(), tmpName);
  fs.mkdirSync(outDir, { recursive: true });
  let markdown = lines.join('\n');
  try {
    const prettier = require('prettier');
    const config = (await prettier.resolveConfig(path.join(REPO_ROOT, 'docs', 'x.md'))) || {};
    markdown = await prettier.format(markdown, { ...config, parser: 'markdown' });
  } catch (error) {
    process.stderr.write(`prettier unavailable (${error.message}); writing unformatted markdown\n`);
  }
  const file = path.join(outDir, fileName);
  fs.writeFileSync(file, markdown);
  return file;
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { REPO_ROOT, freePort, machineLine, writeMarkdownReport };
