import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { checkPackages, findCycle, stripJsonComments } from './lib/check-packages-lib';

const VERSION = '0.1.0';

type Manifest = Record<string, unknown>;

interface FakePackage {
  /** Folder name under packages/. */
  readonly dir: string;
  readonly manifest: Manifest;
  /** Paths of tsconfig.json `references`, relative to the package folder. */
  readonly references: string[];
  readonly readme?: boolean;
  readonly testTsconfig?: boolean;
}

/** A package.json that keeps every convention. */
function validManifest(name: string, dependencies: Record<string, string> = {}): Manifest {
  return {
    name,
    version: VERSION,
    description: 'Does one job well.',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist/**/*.js', 'dist/**/*.d.ts'],
    engines: { node: '>=20.19' },
    dependencies,
  };
}

/** Three packages: a leaf, one that depends on it, and the meta package on top. */
function validPackages(): FakePackage[] {
  return [
    { dir: 'leaf', manifest: validManifest('@lastcall/leaf'), references: [] },
    {
      dir: 'middle',
      manifest: {
        ...validManifest('@lastcall/middle', { '@lastcall/leaf': VERSION }),
        peerDependencies: { winston: '>=3' },
        peerDependenciesMeta: { winston: { optional: true } },
      },
      references: ['../leaf'],
    },
    {
      dir: 'lastcall',
      manifest: validManifest('lastcall', {
        '@lastcall/leaf': VERSION,
        '@lastcall/middle': VERSION,
      }),
      references: ['../leaf', '../middle/tsconfig.json'],
    },
  ];
}

const repos: string[] = [];

afterEach(() => {
  for (const repo of repos.splice(0)) rmSync(repo, { recursive: true, force: true });
});

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a fake repo into a fresh temp folder (removed after the test); returns its root. */
function createRepo(packages: FakePackage[], rootReferences?: string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lastcall-check-packages-'));
  repos.push(root);
  writeJson(path.join(root, 'lerna.json'), { version: VERSION, packages: ['packages/*'] });
  const references =
    rootReferences ?? packages.flatMap(({ dir }) => [`packages/${dir}`, `packages/${dir}/test`]);
  writeJson(path.join(root, 'tsconfig.json'), {
    files: [],
    references: references.map((reference) => ({ path: reference })),
  });
  for (const fake of packages) {
    const dir = path.join(root, 'packages', fake.dir);
    mkdirSync(path.join(dir, 'test'), { recursive: true });
    writeJson(path.join(dir, 'package.json'), fake.manifest);
    if (fake.readme !== false) writeFileSync(path.join(dir, 'README.md'), `# ${fake.dir}\n`);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      [
        '{',
        '  // comments and trailing commas are allowed, as in every tsconfig',
        '  "extends": "../../tsconfig.base.json",',
        `  "references": [${fake.references.map((p) => `{ "path": "${p}" },`).join(' ')}],`,
        '}',
      ].join('\n'),
    );
    if (fake.testTsconfig !== false) {
      writeJson(path.join(dir, 'test', 'tsconfig.json'), { references: [{ path: '..' }] });
    }
  }
  return root;
}

/** The packages of {@link validPackages}, with the one in folder `dir` changed by `change`. */
function withPackage(dir: string, change: (fake: FakePackage) => FakePackage): FakePackage[] {
  return validPackages().map((fake) => (fake.dir === dir ? change(fake) : fake));
}

/** The leaf package with its manifest changed by `change`. */
function withLeafManifest(change: (manifest: Manifest) => Manifest): FakePackage[] {
  return withPackage('leaf', (fake) => ({ ...fake, manifest: change(fake.manifest) }));
}

describe('checkPackages', () => {
  test('finds no problem in a repo that keeps every convention', () => {
    const root = createRepo(validPackages());
    expect(checkPackages(root)).toEqual({
      packages: ['lastcall', '@lastcall/leaf', '@lastcall/middle'],
      problems: [],
    });
  });

  test('prints the cycle when internal dependencies form one', () => {
    const root = createRepo(
      withPackage('leaf', (fake) => ({
        ...fake,
        manifest: validManifest('@lastcall/leaf', { '@lastcall/middle': VERSION }),
        references: ['../middle'],
      })),
    );
    expect(checkPackages(root).problems).toEqual([
      'internal dependencies form a cycle: @lastcall/leaf -> @lastcall/middle -> @lastcall/leaf',
    ]);
  });

  test('reports an exports map that does not list types first', () => {
    const root = createRepo(
      withLeafManifest((manifest) => ({
        ...manifest,
        exports: {
          '.': { default: './dist/index.js', types: './dist/index.d.ts' },
          './package.json': './package.json',
        },
      })),
    );
    expect(checkPackages(root).problems).toEqual([
      'packages/leaf: package.json "exports"["."] must list "types" first; it lists ["default","types"]',
    ]);
  });

  test('reports a missing README.md', () => {
    const root = createRepo(withPackage('middle', (fake) => ({ ...fake, readme: false })));
    expect(checkPackages(root).problems).toEqual(['packages/middle: README.md is missing']);
  });

  test('reports tsconfig references that miss an internal dependency', () => {
    const root = createRepo(
      withPackage('lastcall', (fake) => ({ ...fake, references: ['../leaf'] })),
    );
    expect(checkPackages(root).problems).toEqual([
      'packages/lastcall: tsconfig.json does not reference "../middle" although it depends on @lastcall/middle',
    ]);
  });

  test('reports tsconfig references to a package that is not a dependency', () => {
    const root = createRepo(
      withPackage('leaf', (fake) => ({ ...fake, references: ['../middle'] })),
    );
    expect(checkPackages(root).problems).toEqual([
      'packages/leaf: tsconfig.json references "../middle" but does not depend on @lastcall/middle',
    ]);
  });

  test('reports tsconfig references to a folder that holds no package', () => {
    const root = createRepo(withPackage('leaf', (fake) => ({ ...fake, references: ['../gone'] })));
    expect(checkPackages(root).problems).toEqual([
      'packages/leaf: tsconfig.json references "../gone", which is not a package of this repo',
    ]);
  });

  test('reports missing engines', () => {
    const root = createRepo(withLeafManifest(({ engines: _engines, ...manifest }) => manifest));
    expect(checkPackages(root).problems).toEqual([
      'packages/leaf: package.json "engines.node" is undefined; expected ">=20.19"',
    ]);
  });

  test.each<[string, (manifest: Manifest) => Manifest, string]>([
    [
      'a missing description',
      ({ description: _description, ...manifest }) => manifest,
      'packages/leaf: package.json has no "description"',
    ],
    [
      'a description of two sentences',
      (manifest) => ({ ...manifest, description: 'Does one job. Does it well.' }),
      'packages/leaf: package.json "description" must be one sentence ending with a period: "Does one job. Does it well."',
    ],
    [
      'a version other than the fixed one',
      (manifest) => ({ ...manifest, version: '0.2.0' }),
      'packages/leaf: package.json "version" is "0.2.0"; lerna.json fixes it at "0.1.0"',
    ],
    [
      'a missing exports map',
      ({ exports: _exports, ...manifest }) => manifest,
      'packages/leaf: package.json has no "exports" map',
    ],
    [
      'an exports map without ./package.json',
      (manifest) => ({
        ...manifest,
        exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      }),
      'packages/leaf: package.json "exports" has no "./package.json": "./package.json" entry',
    ],
    [
      'a "." export with neither default nor require',
      (manifest) => ({
        ...manifest,
        exports: { '.': { types: './dist/index.d.ts' }, './package.json': './package.json' },
      }),
      'packages/leaf: package.json "exports"["."] has neither a "default" nor a "require" condition',
    ],
    [
      'a missing files allowlist',
      ({ files: _files, ...manifest }) => manifest,
      'packages/leaf: package.json has no "files" allowlist (a non-empty array of globs)',
    ],
    [
      'an engines range other than >=20.19',
      (manifest) => ({ ...manifest, engines: { node: '>=18' } }),
      'packages/leaf: package.json "engines.node" is ">=18"; expected ">=20.19"',
    ],
    [
      'a peer dependency not marked optional',
      (manifest) => ({ ...manifest, peerDependencies: { pino: '>=8' } }),
      'packages/leaf: peer dependency "pino" is not marked { "optional": true } in "peerDependenciesMeta"',
    ],
    [
      'a dependency on the meta package',
      (manifest) => ({ ...manifest, devDependencies: { lastcall: VERSION } }),
      'packages/leaf: depends on the meta package "lastcall" in "devDependencies"; nothing may depend on it',
    ],
  ])('reports %s', (_title, change, problem) => {
    const root = createRepo(withLeafManifest(change));
    expect(checkPackages(root).problems).toEqual([problem]);
  });

  test('reports a package whose name does not match its folder', () => {
    const root = createRepo(
      withPackage('lastcall', (fake) => ({
        ...fake,
        manifest: { ...fake.manifest, name: '@lastcall/lastcall' },
      })),
    );
    expect(checkPackages(root).problems).toEqual([
      'packages/lastcall: package.json "name" is "@lastcall/lastcall"; the folder packages/lastcall must hold "lastcall"',
    ]);
  });

  test('reports an internal dependency that does not use the fixed version', () => {
    const root = createRepo(
      withPackage('middle', (fake) => ({
        ...fake,
        manifest: { ...fake.manifest, dependencies: { '@lastcall/leaf': '^0.1.0' } },
      })),
    );
    expect(checkPackages(root).problems).toEqual([
      'packages/middle: "dependencies" asks for @lastcall/leaf@^0.1.0; internal packages use the fixed version "0.1.0"',
    ]);
  });

  test('reports a package without a test tsconfig', () => {
    const root = createRepo(withPackage('leaf', (fake) => ({ ...fake, testTsconfig: false })));
    expect(checkPackages(root).problems).toEqual(['packages/leaf: test/tsconfig.json is missing']);
  });

  test('reports a root tsconfig that does not build a package or its tests', () => {
    const root = createRepo(validPackages(), [
      'packages/leaf',
      'packages/middle',
      'packages/middle/test',
      'packages/lastcall/test',
    ]);
    expect(checkPackages(root).problems).toEqual([
      'tsconfig.json does not reference "packages/lastcall", so tsc --build skips it',
      'tsconfig.json does not reference "packages/leaf/test", so tsc --build skips it',
    ]);
  });

  test('reports a package folder without package.json', () => {
    const root = createRepo(validPackages());
    unlinkSync(path.join(root, 'packages', 'leaf', 'package.json'));
    expect(checkPackages(root).problems).toContain('packages/leaf: package.json is missing');
  });

  test('passes on the real repo', () => {
    const { packages, problems } = checkPackages(path.resolve(__dirname, '..'));
    expect(problems).toEqual([]);
    expect(packages).toContain('@lastcall/terminator');
  });
});

describe('findCycle', () => {
  test('returns undefined for a graph that points one way', () => {
    const graph = new Map([
      ['a', ['b', 'c']],
      ['b', ['c']],
      ['c', []],
    ]);
    expect(findCycle(graph)).toBeUndefined();
  });

  test('returns the path of a cycle, closed on its first node', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['b']],
    ]);
    expect(findCycle(graph)).toEqual(['b', 'c', 'b']);
  });
});

describe('stripJsonComments', () => {
  test('removes comments and trailing commas but keeps them inside strings', () => {
    const text = '{ /* a */ "path": "//not a comment", // b\n "list": [1, 2,], }';
    expect(JSON.parse(stripJsonComments(text))).toEqual({ path: '//not a comment', list: [1, 2] });
  });
});
