'use strict';

/**
 * Installs every package the way a user does, and checks that it works alone: `npm pack`s each
 * package under packages/*, installs the tarball (plus the tarballs of the sibling packages it
 * depends on, until those are published) into an empty project, requires it there, compares its
 * export names with the ones of the built package in the repo, and fails when anything else came
 * with it. For the meta package it then runs the installed `lastcall` bin there: start, requests,
 * status, reload, stop (tools/pack-smoke/lastcall-cli.js). Packages must be built first
 * (`npm run build`).
 *
 * Usage: node tools/pack-smoke.js [package folder or name ...]   (default: every package)
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { npmChildEnv } = require('./lib/npm-env');
const { smokeTestCli } = require('./pack-smoke/lastcall-cli');

const root = path.resolve(__dirname, '..');
const packagesDir = path.join(root, 'packages');

/** The environment for the npm processes we start: see tools/lib/npm-env.js. */
const npmEnv = npmChildEnv();

/**
 * Runs a command and returns its stdout; on failure throws an error carrying its output.
 * @param {string} file
 * @param {string[]} args
 * @param {string} cwd
 * @param {string} [label] how to name the command in an error message
 * @returns {string}
 */
function run(file, args, cwd, label = `${path.basename(file)} ${args.join(' ')}`) {
  try {
    return execFileSync(file, args, {
      cwd,
      env: npmEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const output = [error.stdout, error.stderr]
      .filter((text) => typeof text === 'string' && text.trim() !== '')
      .join('\n')
      .trim();
    throw new Error(`\`${label}\` failed in ${cwd}\n${output}`, {
      cause: error,
    });
  }
}

/**
 * Lists the export names of `specifier` (a package name or an absolute file) as resolved from
 * `cwd`, in a fresh Node process so that nothing cached here can hide a missing file. For a
 * package name it also requires `<name>/package.json`, which the exports map must allow.
 * @param {string} specifier
 * @param {string} cwd
 * @returns {string[]}
 */
function listExports(specifier, cwd) {
  const script = [
    `const specifier = ${JSON.stringify(specifier)};`,
    'const names = Object.keys(require(specifier)).sort();',
    "if (!require('node:path').isAbsolute(specifier)) require(specifier + '/package.json');",
    'process.stdout.write(JSON.stringify(names));',
  ].join('\n');
  return JSON.parse(
    run(process.execPath, ['-e', script], cwd, `require(${JSON.stringify(specifier)})`),
  );
}

/**
 * Every package.json name installed under `dir`/node_modules, nested ones included.
 * @param {string} dir
 * @returns {string[]}
 */
function listInstalled(dir) {
  const nodeModules = path.join(dir, 'node_modules');
  if (!fs.existsSync(nodeModules)) return [];
  /** @type {string[]} */
  const folders = [];
  for (const entry of fs.readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const scoped of fs.readdirSync(path.join(nodeModules, entry))) {
        folders.push(path.join(nodeModules, entry, scoped));
      }
    } else {
      folders.push(path.join(nodeModules, entry));
    }
  }
  return folders.flatMap((folder) => [
    path.relative(nodeModules, folder).split(path.sep).join('/'),
    ...listInstalled(folder),
  ]);
}

/**
 * @param {string} dir a folder under packages/
 * @returns {{ dir: string, packageDir: string, manifest: Record<string, any> }}
 */
function readPackage(dir) {
  const packageDir = path.join(packagesDir, dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  return { dir, packageDir, manifest };
}

/**
 * The sibling packages `name` needs at run time, directly or through another sibling.
 * @param {string} name
 * @param {Map<string, { manifest: Record<string, any> }>} byName
 * @returns {string[]}
 */
function internalClosure(name, byName) {
  /** @type {Set<string>} */
  const seen = new Set();
  const pending = [name];
  while (pending.length > 0) {
    const current = byName.get(/** @type {string} */ (pending.pop()));
    if (current === undefined) continue;
    const { dependencies = {}, optionalDependencies = {} } = current.manifest;
    for (const dependency of Object.keys({ ...dependencies, ...optionalDependencies })) {
      if (byName.has(dependency) && dependency !== name && !seen.has(dependency)) {
        seen.add(dependency);
        pending.push(dependency);
      }
    }
  }
  return [...seen].sort();
}

/**
 * Packs one package into `tarballDir`.
 * @param {string} packageDir
 * @param {string} tarballDir
 * @returns {{ file: string, size: number, entryCount: number }}
 */
function pack(packageDir, tarballDir) {
  const output = run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballDir],
    packageDir,
  );
  const [result] = JSON.parse(output.slice(output.indexOf('[')));
  return {
    file: path.join(tarballDir, result.filename),
    size: result.size,
    entryCount: result.entryCount,
  };
}

/**
 * Installs one packed package alone into a fresh project and checks it.
 * @param {object} options
 * @param {string} options.name
 * @param {string} options.projectDir an empty folder for the temp project
 * @param {string[]} options.tarballs this package's tarball first, then its siblings'
 * @param {string[]} options.siblings the sibling package names that may come with it
 * @param {string[]} options.expectedExports the export names of the built package in the repo
 * @param {string | undefined} options.typesPath the `exports["."].types` path
 * @returns {string[]} the dependencies that got installed with it
 */
function smokeTest({ name, projectDir, tarballs, siblings, expectedExports, typesPath }) {
  fs.mkdirSync(projectDir, { recursive: true });
  run('npm', ['init', '-y'], projectDir);
  run(
    'npm',
    [
      'install',
      ...tarballs,
      '--prefix',
      projectDir,
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--no-package-lock',
      '--prefer-offline',
    ],
    projectDir,
  );

  const installedExports = listExports(name, projectDir);
  const missing = expectedExports.filter((exported) => !installedExports.includes(exported));
  const extra = installedExports.filter((exported) => !expectedExports.includes(exported));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `the installed package exports [${installedExports.join(', ')}] but the built one exports ` +
        `[${expectedExports.join(', ')}]`,
    );
  }
  if (installedExports.length === 0) throw new Error('the installed package exports nothing');

  const installedDir = path.join(projectDir, 'node_modules', ...name.split('/'));
  if (typesPath !== undefined && !fs.existsSync(path.join(installedDir, typesPath))) {
    throw new Error(`its types entry ${typesPath} is not in the tarball`);
  }

  const installed = listInstalled(projectDir);
  if (!installed.includes(name)) throw new Error('it is not in node_modules after the install');
  const unexpected = installed.filter((entry) => entry !== name && !siblings.includes(entry));
  if (unexpected.length > 0) {
    throw new Error(`other packages came with it: ${unexpected.join(', ')}`);
  }
  return installed.filter((entry) => entry !== name);
}

async function main() {
  const requested = process.argv.slice(2);
  const packages = fs
    .readdirSync(packagesDir, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && fs.existsSync(path.join(packagesDir, entry.name, 'package.json')),
    )
    .map((entry) => readPackage(entry.name))
    .sort((a, b) => a.dir.localeCompare(b.dir));
  const byName = new Map(packages.map((pkg) => [pkg.manifest.name, pkg]));
  const selected = packages.filter(
    (pkg) =>
      requested.length === 0 ||
      requested.includes(pkg.dir) ||
      requested.includes(pkg.manifest.name),
  );
  if (selected.length === 0) {
    console.error(`pack-smoke: no package matches ${requested.join(' ')}`);
    process.exitCode = 1;
    return;
  }

  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-pack-smoke-'));
  let failures = 0;
  try {
    const tarballDir = path.join(tempDir, 'tarballs');
    fs.mkdirSync(tarballDir);
    /** @type {Map<string, { file: string, size: number, entryCount: number }>} */
    const tarballs = new Map();
    const needed = new Set(
      selected.flatMap((pkg) => [pkg.manifest.name, ...internalClosure(pkg.manifest.name, byName)]),
    );
    for (const pkg of packages) {
      if (!needed.has(pkg.manifest.name)) continue;
      try {
        tarballs.set(pkg.manifest.name, pack(pkg.packageDir, tarballDir));
      } catch (error) {
        failures += 1;
        console.error(`pack-smoke: ${pkg.manifest.name} FAILED: cannot pack it: ${error.message}`);
      }
    }

    for (const { dir, manifest, packageDir } of selected) {
      const { name } = manifest;
      const tarball = tarballs.get(name);
      if (tarball === undefined) continue;
      try {
        const siblings = internalClosure(name, byName);
        const siblingTarballs = siblings.map((sibling) => {
          const siblingTarball = tarballs.get(sibling);
          if (siblingTarball === undefined)
            throw new Error(`its dependency ${sibling} could not be packed`);
          return siblingTarball.file;
        });
        const mainExport = manifest.exports?.['.'];
        const entry = mainExport?.default ?? mainExport?.require ?? manifest.main;
        if (typeof entry !== 'string') throw new Error('package.json names no entry point');
        let expectedExports;
        try {
          expectedExports = listExports(path.join(packageDir, entry), root);
        } catch (error) {
          throw new Error(
            `the built package cannot be required from the repo; run \`npm run build\` first\n${error.message}`,
            { cause: error },
          );
        }
        const projectDir = path.join(tempDir, 'projects', `smoke-${dir}`);
        const dependencies = smokeTest({
          name,
          projectDir,
          tarballs: [tarball.file, ...siblingTarballs],
          siblings,
          expectedExports,
          typesPath: typeof mainExport?.types === 'string' ? mainExport.types : undefined,
        });
        const listed = dependencies.length > 0 ? `: ${dependencies.join(', ')}` : '';
        console.log(
          `pack-smoke: ${name} ok (${(tarball.size / 1000).toFixed(1)} kB tarball, ` +
            `${tarball.entryCount} files, ${dependencies.length} ` +
            `${dependencies.length === 1 ? 'dependency' : 'dependencies'}${listed})`,
        );
        if (name === 'lastcall') {
          const binFile = manifest.bin?.lastcall;
          if (typeof binFile !== 'string') throw new Error('package.json has no bin.lastcall');
          try {
            const summary = await smokeTestCli({ projectDir, binFile });
            console.log(`pack-smoke: ${name} CLI ok (${summary})`);
          } catch (error) {
            throw new Error(`its CLI: ${error.message}`, { cause: error });
          }
        }
      } catch (error) {
        failures += 1;
        console.error(`pack-smoke: ${name} FAILED: ${error.message}`);
      }
    }
  } finally {
    fs.rmSync(tempDir, { recursive: true, force: true });
  }
  if (failures > 0) {
    console.error(`pack-smoke: ${failures} package(s) failed`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(`pack-smoke: FAILED: ${error.stack}`);
  process.exitCode = 1;
});
