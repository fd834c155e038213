/**
 * appVersion(): the version a worker reports in its hello, for the heartbeat's `version` and
 * `versions`. LASTCALL_APP_VERSION wins; else the package.json nearest the app's main script.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_VERSION_CHARS } from '../src/protocol';
import { appVersion } from '../src/worker/app-version';

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder holding `files` (relative name → content); removed in `afterEach`. */
function folderWith(files: Readonly<Record<string, string>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-app-version-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

const manifest = (fields: Record<string, unknown>): string => JSON.stringify(fields);

describe('appVersion: LASTCALL_APP_VERSION', () => {
  it('wins over the package.json, trimmed', () => {
    const dir = folderWith({ 'package.json': manifest({ version: '1.0.0' }), 'app.js': '' });
    expect(appVersion(path.join(dir, 'app.js'), { LASTCALL_APP_VERSION: '  2.5.0-rc.1\n' })).toBe(
      '2.5.0-rc.1',
    );
  });

  it('is used without a script', () => {
    expect(appVersion(undefined, { LASTCALL_APP_VERSION: 'build-42' })).toBe('build-42');
  });

  it(`is cut to MAX_VERSION_CHARS (${String(MAX_VERSION_CHARS)}) characters`, () => {
    expect(MAX_VERSION_CHARS).toBe(100);
    const long = `v${'9'.repeat(500)}`;
    expect(appVersion(undefined, { LASTCALL_APP_VERSION: `  ${long}  ` })).toBe(
      long.slice(0, MAX_VERSION_CHARS),
    );
  });

  it('is ignored when empty or blank: the package.json says', () => {
    const dir = folderWith({ 'package.json': manifest({ version: '1.0.0' }), 'app.js': '' });
    for (const blank of ['', '   ']) {
      expect(appVersion(path.join(dir, 'app.js'), { LASTCALL_APP_VERSION: blank })).toBe('1.0.0');
    }
  });
});

describe('appVersion: the nearest package.json', () => {
  it("reads the version of the package.json in the script's folder", () => {
    const dir = folderWith({
      'package.json': manifest({ name: 'outer', version: '9.0.0' }),
      'srv/package.json': manifest({ name: 'shop', version: '1.4.2' }),
      'srv/server.js': '',
    });
    expect(appVersion(path.join(dir, 'srv', 'server.js'), {})).toBe('1.4.2');
  });

  it('walks up from the script to the nearest one', () => {
    const dir = folderWith({
      'package.json': manifest({ version: '3.0.0' }),
      'dist/server/main.js': '',
    });
    expect(appVersion(path.join(dir, 'dist', 'server', 'main.js'), {})).toBe('3.0.0');
  });

  it('resolves a relative script from the working folder', () => {
    const dir = folderWith({ 'package.json': manifest({ version: '0.3.1' }), 'lib/app.js': '' });
    const relative = path.relative(process.cwd(), path.join(dir, 'lib', 'app.js'));
    expect(path.isAbsolute(relative)).toBe(false);
    expect(appVersion(relative, {})).toBe('0.3.1');
  });

  it('trims the version and cuts it to MAX_VERSION_CHARS characters', () => {
    const long = `1.0.0-${'x'.repeat(300)}`;
    const trimmed = folderWith({ 'package.json': manifest({ version: ' 1.2.3 ' }), 'a.js': '' });
    expect(appVersion(path.join(trimmed, 'a.js'), {})).toBe('1.2.3');
    const cut = folderWith({ 'package.json': manifest({ version: long }), 'a.js': '' });
    expect(appVersion(path.join(cut, 'a.js'), {})).toBe(long.slice(0, MAX_VERSION_CHARS));
  });

  it.each([
    ['without a version', manifest({ name: 'shop' })],
    ['with an empty version', manifest({ version: '' })],
    ['with a version that is not a string', manifest({ version: 3 })],
    ['of broken JSON', '{ "version": "2.0.0",'],
    ['of JSON that is not an object', 'null'],
  ])('is null for a package.json %s, and the search stops there', (_what, content) => {
    const dir = folderWith({
      'package.json': manifest({ version: '9.9.9' }),
      'app/package.json': content,
      'app/main.js': '',
    });
    expect(appVersion(path.join(dir, 'app', 'main.js'), {})).toBeNull();
  });

  it('is null without a script, or with an empty one, whatever the working folder holds', () => {
    const dir = folderWith({
      'package.json': manifest({ version: '6.0.0' }),
      'app/package.json': manifest({ version: '6.1.0' }),
    });
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'app'));
    try {
      expect(appVersion(undefined, {})).toBeNull();
      expect(appVersion('', {})).toBeNull();
    } finally {
      process.chdir(cwd);
    }
  });

  it('passes over a folder named package.json, which cannot be read', () => {
    const dir = folderWith({
      'package.json': manifest({ version: '4.0.0' }),
      'app/package.json/keep': '',
      'app/main.js': '',
    });
    expect(appVersion(path.join(dir, 'app', 'main.js'), {})).toBe('4.0.0');
  });

  it('looks at most 32 folders up', () => {
    const levels = (count: number): string =>
      Array.from({ length: count }, (_, index) => `d${String(index)}`).join('/');
    const dir = folderWith({
      'package.json': manifest({ version: '5.0.0' }),
      [`${levels(31)}/near.js`]: '',
      [`${levels(32)}/far.js`]: '',
    });
    // near.js: its folder and 31 above it reach the package.json; far.js would need 33.
    expect(appVersion(path.join(dir, levels(31), 'near.js'), {})).toBe('5.0.0');
    expect(appVersion(path.join(dir, levels(32), 'far.js'), {})).toBeNull();
  });
});
