'use strict';

/**
 * Fails (exit 1, one line per problem) when a package under packages/* breaks the repo
 * conventions: see tools/lib/check-packages-lib.js for the list.
 */
const path = require('node:path');
const { checkPackages } = require('./lib/check-packages-lib');

const root = path.resolve(__dirname, '..');
const { packages, problems } = checkPackages(root);

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-packages: ${problem}`);
  console.error(`check-packages: ${problems.length} problem(s) in ${packages.length} package(s)`);
  process.exitCode = 1;
} else {
  console.log(`check-packages: ${packages.length} package(s) ok (${packages.join(', ')})`);
}
