#!/usr/bin/env node
/**
 * The `lastcall` command: `lastcall start <script>`, `reload`, `stop`, `status`. See
 * `lastcall --help` and the README for the exit codes.
 */
import { runCli } from './cli/main';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the package's own manifest
const { version } = require('../package.json') as { version: string };

void runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
  version,
}).then((code) => {
  // A started master lives on; any other command ends here, with its code.
  if (code !== undefined) process.exit(code);
});
