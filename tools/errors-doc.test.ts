/**
 * Keeps docs/errors.md and the code in step: every `LASTCALL_ERR_*` string literal of a package's
 * src/errors.ts is documented under that package's `## <name>` section, and nothing else is.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const CODE_PATTERN = /^LASTCALL_ERR_[A-Z0-9]+_[A-Z0-9_]+$/;

interface PackageErrors {
  readonly name: string;
  readonly errorsFile: string;
  readonly codes: readonly string[];
}

/** Every package with a src/errors.ts, with the codes that file spells out. */
function readPackageErrors(): PackageErrors[] {
  const packagesDir = path.join(root, 'packages');
  return readdirSync(packagesDir)
    .sort()
    .map((dir) => path.join(packagesDir, dir))
    .filter((dir) => existsSync(path.join(dir, 'src', 'errors.ts')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name: string;
      };
      const errorsFile = path.join(dir, 'src', 'errors.ts');
      const source = readFileSync(errorsFile, 'utf8');
      const codes = [...source.matchAll(/['"`](LASTCALL_ERR_\w*)['"`]/g)].map((match) => match[1]!);
      return {
        name: manifest.name,
        errorsFile: path.relative(root, errorsFile),
        codes: [...new Set(codes)].sort(),
      };
    });
}

/**
 * The codes docs/errors.md lists in the first column of each table, by `## <package>` section.
 * A code listed twice in one section is kept twice, so that the test can report it.
 */
function readDocumentedCodes(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8').split('\n')) {
    const heading = /^##\s+(.+?)\s*$/.exec(line);
    if (heading !== null) {
      current = [];
      sections.set(heading[1]!.replaceAll('`', ''), current);
      continue;
    }
    const firstCell = /^\|([^|]*)\|/.exec(line);
    if (current === undefined || firstCell === null) continue;
    for (const match of firstCell[1]!.matchAll(/LASTCALL_ERR_\w*/g)) current.push(match[0]);
  }
  return sections;
}

const packages = readPackageErrors();
const documented = readDocumentedCodes();

test('at least one package defines error codes', () => {
  expect(packages.map(({ name }) => name)).toContain('@lastcall/terminator');
});

test('docs/errors.md has a section only for packages that have a src/errors.ts', () => {
  expect([...documented.keys()].sort()).toEqual(packages.map(({ name }) => name).sort());
});

describe.each(packages)('$name', ({ name, errorsFile, codes }) => {
  test(`${errorsFile} defines at least one code`, () => {
    expect(codes.length).toBeGreaterThan(0);
  });

  test('every code is LASTCALL_ERR_<AREA>_<REASON> in capitals', () => {
    expect(codes.filter((code) => !CODE_PATTERN.test(code))).toEqual([]);
  });

  test('docs/errors.md lists every code of the source under its section', () => {
    const listed = new Set(documented.get(name) ?? []);
    expect(codes.filter((code) => !listed.has(code))).toEqual([]);
  });

  test('docs/errors.md lists no code that the source does not define', () => {
    const defined = new Set(codes);
    expect((documented.get(name) ?? []).filter((code) => !defined.has(code))).toEqual([]);
  });

  test('docs/errors.md lists each code once', () => {
    const listed = documented.get(name) ?? [];
    expect(listed.filter((code, index) => listed.indexOf(code) !== index)).toEqual([]);
  });
});
