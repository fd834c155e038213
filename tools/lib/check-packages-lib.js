'use strict';

/**
 * The conventions every package under packages/* keeps (see STYLE.md and DESIGN.md), as a pure
 * function of a repo root so that tests can run it against small fake repos.
 */
const fs = require('node:fs');
const path = require('node:path');

/** The scope of every package but the meta package. */
const SCOPE = '@lastcall/';
/** The meta package, which nothing may depend on. */
const META_PACKAGE = 'lastcall';
/** The exact `engines.node` range every package declares. */
const ENGINES_NODE = '>=20.19';
/** Fields whose internal entries are needed at run time, so they are built first. */
const RUNTIME_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'];
/** Every field in which a package can name another one. */
const ALL_DEPENDENCY_FIELDS = [...RUNTIME_FIELDS, 'devDependencies'];

/**
 * Removes comments and trailing commas from JSON-with-comments text (the tsconfig dialect),
 * leaving string contents untouched.
 * @param {string} text
 * @returns {string}
 */
function stripJsonComments(text) {
  let output = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const next = text[index + 1];
    if (char === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      output += text.slice(index, end + 1);
      index = end + 1;
    } else if (char === '/' && next === '/') {
      while (index < text.length && text[index] !== '\n') index += 1;
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', index + 2);
      index = end === -1 ? text.length : end + 2;
    } else {
      output += char;
      index += 1;
    }
  }
  return output.replace(/,(\s*[}\]])/g, '$1');
}

/**
 * Reads a JSON (or tsconfig-style JSON with comments) file.
 * @param {string} file
 * @returns {{ value?: unknown, error?: string }} the parsed value, or why it could not be read
 */
function readJson(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { error: error.code === 'ENOENT' ? 'is missing' : `cannot be read (${error.message})` };
  }
  try {
    return { value: JSON.parse(stripJsonComments(text)) };
  } catch (error) {
    return { error: `is not valid JSON (${error.message})` };
  }
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {string} name
 * @returns {boolean} whether `name` is one of ours
 */
function isInternalName(name) {
  return name === META_PACKAGE || name.startsWith(SCOPE);
}

/**
 * @param {unknown} references the `references` of a tsconfig
 * @returns {string[] | undefined} each reference's `path`, or undefined when malformed
 */
function referencePaths(references) {
  if (references === undefined) return [];
  if (!Array.isArray(references)) return undefined;
  const paths = [];
  for (const reference of references) {
    if (!isObject(reference) || typeof reference.path !== 'string') return undefined;
    paths.push(reference.path);
  }
  return paths;
}

/**
 * Normalises a tsconfig reference (a folder or a tsconfig file) to a folder relative to the root.
 * @param {string} root
 * @param {string} fromDir
 * @param {string} referencePath
 * @returns {string} a POSIX path relative to root, e.g. `packages/log-shim`
 */
function referencedFolder(root, fromDir, referencePath) {
  let absolute = path.resolve(fromDir, referencePath);
  if (absolute.endsWith('.json')) absolute = path.dirname(absolute);
  return path.relative(root, absolute).split(path.sep).join('/');
}

/**
 * Finds one cycle in a directed graph, if there is any.
 * @param {Map<string, string[]>} graph node → the nodes it points to
 * @returns {string[] | undefined} the cycle as a path whose first and last node are the same
 */
function findCycle(graph) {
  /** @type {Map<string, 'visiting' | 'done'>} */
  const marks = new Map();
  /** @type {string[]} */
  const stack = [];

  /** @param {string} node @returns {string[] | undefined} */
  function visit(node) {
    marks.set(node, 'visiting');
    stack.push(node);
    for (const target of graph.get(node) ?? []) {
      const mark = marks.get(target);
      if (mark === 'visiting') return [...stack.slice(stack.indexOf(target)), target];
      if (mark === undefined && graph.has(target)) {
        const cycle = visit(target);
        if (cycle !== undefined) return cycle;
      }
    }
    stack.pop();
    marks.set(node, 'done');
    return undefined;
  }

  for (const node of [...graph.keys()].sort()) {
    if (marks.has(node)) continue;
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/**
 * Checks the package.json fields that do not depend on other packages.
 * @param {object} context
 * @param {string} context.dir the package folder name
 * @param {Record<string, unknown>} context.manifest its package.json
 * @param {string | undefined} context.version the fixed version from lerna.json
 * @param {(message: string) => void} report
 */
function checkManifest({ dir, manifest, version }, report) {
  const { name, description, exports: exportsMap, files, engines } = manifest;

  if (typeof name !== 'string' || name === '') {
    report('package.json has no "name"');
  } else {
    const expectedName = dir === META_PACKAGE ? META_PACKAGE : `${SCOPE}${dir}`;
    if (name !== expectedName) {
      report(
        `package.json "name" is "${name}"; the folder packages/${dir} must hold "${expectedName}"`,
      );
    }
  }

  if (typeof description !== 'string' || description.trim() === '') {
    report('package.json has no "description"');
  } else if (!/^\S.*\.$/.test(description) || /[.!?]\s+\S/.test(description)) {
    report(
      `package.json "description" must be one sentence ending with a period: "${description}"`,
    );
  }

  if (version !== undefined && manifest.version !== version) {
    report(
      `package.json "version" is ${JSON.stringify(manifest.version)}; lerna.json fixes it at "${version}"`,
    );
  }

  checkExports(exportsMap, report);

  if (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === 'string')) {
    report('package.json has no "files" allowlist (a non-empty array of globs)');
  }

  const enginesNode = isObject(engines) ? engines.node : undefined;
  if (enginesNode !== ENGINES_NODE) {
    report(
      `package.json "engines.node" is ${JSON.stringify(enginesNode)}; expected "${ENGINES_NODE}"`,
    );
  }

  const peers = isObject(manifest.peerDependencies) ? manifest.peerDependencies : {};
  const peersMeta = isObject(manifest.peerDependenciesMeta) ? manifest.peerDependenciesMeta : {};
  for (const peer of Object.keys(peers).sort()) {
    const meta = peersMeta[peer];
    if (!isObject(meta) || meta.optional !== true) {
      report(
        `peer dependency "${peer}" is not marked { "optional": true } in "peerDependenciesMeta"`,
      );
    }
  }
  for (const peer of Object.keys(peersMeta).sort()) {
    if (!(peer in peers)) {
      report(`"peerDependenciesMeta" lists "${peer}", which is not in "peerDependencies"`);
    }
  }
}

/**
 * Checks the `exports` map: `.` with `types` first then `default` or `require`, and
 * `./package.json`.
 * @param {unknown} exportsMap
 * @param {(message: string) => void} report
 */
function checkExports(exportsMap, report) {
  if (!isObject(exportsMap)) {
    report('package.json has no "exports" map');
    return;
  }
  const main = exportsMap['.'];
  if (!isObject(main)) {
    report('package.json "exports" has no "." entry with conditions { "types", "default" }');
  } else {
    const conditions = Object.keys(main);
    if (conditions[0] !== 'types') {
      report(
        `package.json "exports"["."] must list "types" first; it lists ${JSON.stringify(conditions)}`,
      );
    }
    if (!conditions.includes('default') && !conditions.includes('require')) {
      report('package.json "exports"["."] has neither a "default" nor a "require" condition');
    }
  }
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (
      subpath !== '.' &&
      isObject(target) &&
      'types' in target &&
      Object.keys(target)[0] !== 'types'
    ) {
      report(`package.json "exports"["${subpath}"] must list "types" first`);
    }
  }
  if (exportsMap['./package.json'] !== './package.json') {
    report('package.json "exports" has no "./package.json": "./package.json" entry');
  }
}

/**
 * Checks every package under `<root>/packages` against the repo conventions.
 * @param {string} root the repo root (the folder holding lerna.json and packages/)
 * @returns {{ packages: string[], problems: string[] }} the package names found, and one
 *   human-readable line per problem (empty when everything is in order)
 */
function checkPackages(root) {
  /** @type {string[]} */
  const problems = [];

  const lerna = readJson(path.join(root, 'lerna.json'));
  /** @type {string | undefined} */
  let version;
  if (lerna.error !== undefined) {
    problems.push(`lerna.json ${lerna.error}`);
  } else if (!isObject(lerna.value) || typeof lerna.value.version !== 'string') {
    problems.push('lerna.json has no "version"');
  } else if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(lerna.value.version)) {
    problems.push(`lerna.json "version" must be one fixed version, not "${lerna.value.version}"`);
  } else {
    version = lerna.value.version;
  }

  const rootTsconfig = readJson(path.join(root, 'tsconfig.json'));
  /** @type {Set<string> | undefined} */
  let rootReferences;
  if (rootTsconfig.error !== undefined) {
    problems.push(`tsconfig.json ${rootTsconfig.error}`);
  } else {
    const paths = referencePaths(
      isObject(rootTsconfig.value) ? rootTsconfig.value.references : undefined,
    );
    if (paths === undefined) {
      problems.push('tsconfig.json "references" must be an array of { "path": string }');
    } else {
      rootReferences = new Set(paths.map((p) => referencedFolder(root, root, p)));
    }
  }

  const packagesDir = path.join(root, 'packages');
  let dirs = [];
  try {
    dirs = fs
      .readdirSync(packagesDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    problems.push(`packages/ cannot be read (${error.message})`);
  }

  /** @type {{ dir: string, manifest: Record<string, unknown>, name: string }[]} */
  const packages = [];
  for (const dir of dirs) {
    const manifest = readJson(path.join(packagesDir, dir, 'package.json'));
    if (manifest.error !== undefined) {
      problems.push(`packages/${dir}: package.json ${manifest.error}`);
      continue;
    }
    if (!isObject(manifest.value)) {
      problems.push(`packages/${dir}: package.json is not an object`);
      continue;
    }
    const name = typeof manifest.value.name === 'string' ? manifest.value.name : `packages/${dir}`;
    packages.push({ dir, manifest: manifest.value, name });
  }

  /** @type {Map<string, string>} package name → folder */
  const folderByName = new Map(packages.map(({ name, dir }) => [name, dir]));
  /** @type {Map<string, string>} folder relative to root → package name */
  const nameByFolder = new Map(packages.map(({ name, dir }) => [`packages/${dir}`, name]));
  /** @type {Map<string, string[]>} package name → internal runtime dependencies */
  const graph = new Map();

  for (const { dir, manifest, name } of packages) {
    const packageDir = path.join(packagesDir, dir);
    /** @param {string} message */
    const report = (message) => problems.push(`packages/${dir}: ${message}`);

    checkManifest({ dir, manifest, version }, report);

    if (!fs.existsSync(path.join(packageDir, 'README.md'))) report('README.md is missing');

    for (const field of ALL_DEPENDENCY_FIELDS) {
      const dependencies = isObject(manifest[field]) ? manifest[field] : {};
      if (META_PACKAGE in dependencies && name !== META_PACKAGE) {
        report(
          `depends on the meta package "${META_PACKAGE}" in "${field}"; nothing may depend on it`,
        );
      }
    }

    /** @type {Set<string>} */
    const internal = new Set();
    for (const field of RUNTIME_FIELDS) {
      const dependencies = isObject(manifest[field]) ? manifest[field] : {};
      for (const [dependency, range] of Object.entries(dependencies)) {
        if (!isInternalName(dependency) || dependency === META_PACKAGE) continue;
        internal.add(dependency);
        if (!folderByName.has(dependency)) {
          report(`"${field}" names "${dependency}", which is not a package of this repo`);
        }
        if (field !== 'peerDependencies' && version !== undefined && range !== version) {
          report(
            `"${field}" asks for ${dependency}@${String(range)}; internal packages use the fixed version "${version}"`,
          );
        }
      }
    }
    graph.set(name, [...internal].sort());

    const tsconfig = readJson(path.join(packageDir, 'tsconfig.json'));
    if (tsconfig.error !== undefined) {
      report(`tsconfig.json ${tsconfig.error}`);
    } else {
      const paths = referencePaths(
        isObject(tsconfig.value) ? tsconfig.value.references : undefined,
      );
      if (paths === undefined) {
        report('tsconfig.json "references" must be an array of { "path": string }');
      } else {
        /** @type {Set<string>} */
        const referenced = new Set();
        for (const referencePath of paths) {
          const folder = referencedFolder(root, packageDir, referencePath);
          const referencedName = nameByFolder.get(folder);
          if (referencedName === undefined) {
            report(
              `tsconfig.json references "${referencePath}", which is not a package of this repo`,
            );
          } else {
            referenced.add(referencedName);
          }
        }
        for (const dependency of [...internal].sort()) {
          const folder = folderByName.get(dependency);
          if (folder !== undefined && !referenced.has(dependency)) {
            report(
              `tsconfig.json does not reference "../${folder}" although it depends on ${dependency}`,
            );
          }
        }
        for (const referencedName of [...referenced].sort()) {
          if (!internal.has(referencedName)) {
            report(
              `tsconfig.json references "../${folderByName.get(referencedName) ?? referencedName}" but does not depend on ${referencedName}`,
            );
          }
        }
      }
    }

    const testTsconfig = readJson(path.join(packageDir, 'test', 'tsconfig.json'));
    if (testTsconfig.error !== undefined) {
      report(`test/tsconfig.json ${testTsconfig.error}`);
    } else {
      const paths = referencePaths(
        isObject(testTsconfig.value) ? testTsconfig.value.references : undefined,
      );
      const testDir = path.join(packageDir, 'test');
      if (
        paths === undefined ||
        !paths.some((p) => referencedFolder(root, testDir, p) === `packages/${dir}`)
      ) {
        report(
          'test/tsconfig.json does not reference its package (".."), so tests cannot see its types',
        );
      }
    }

    if (rootReferences !== undefined) {
      for (const folder of [`packages/${dir}`, `packages/${dir}/test`]) {
        if (!rootReferences.has(folder)) {
          problems.push(`tsconfig.json does not reference "${folder}", so tsc --build skips it`);
        }
      }
    }
  }

  if (rootReferences !== undefined) {
    for (const folder of [...rootReferences].sort()) {
      if (!fs.existsSync(path.join(root, folder))) {
        problems.push(`tsconfig.json references "${folder}", which does not exist`);
      }
    }
  }

  const cycle = findCycle(graph);
  if (cycle !== undefined) {
    problems.push(`internal dependencies form a cycle: ${cycle.join(' -> ')}`);
  }

  return { packages: packages.map(({ name }) => name), problems };
}

module.exports = { checkPackages, findCycle, stripJsonComments };
