'use strict';

// The command line of a bench: `--help` prints its usage and exits 0; an unknown flag or a
// missing value prints the problem and the usage on stderr and exits 2, never a stack trace.

const path = require('node:path');
const { parseArgs } = require('node:util');

/**
 * Reads `argv` with node:util's parseArgs (strict, no positionals) against `options`.
 * @param {string} usage the bench's usage text
 * @param {import('node:util').ParseArgsConfig['options']} options
 * @param {string[]} [argv]
 * @returns {{ values: Record<string, string | boolean | undefined> }}
 */
function readBenchArgs(usage, options, argv = process.argv.slice(2)) {
  const text = usage.endsWith('\n') ? usage : `${usage}\n`;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(text);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    failUsage(usage, error instanceof Error ? error.message : String(error));
  }
}

/** Prints `message` and the usage on stderr and exits 2. */
function failUsage(usage, message) {
  const name = path.relative(process.cwd(), process.argv[1] ?? 'bench');
  process.stderr.write(`${name}: ${message}\n\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
  process.exit(2);
}

module.exports = { readBenchArgs, failUsage };
