'use strict';

// Command-line options of run.js.

const USAGE = `usage: node tools/bench/terminator/run.js [options]

  --reps N          repetitions per scenario and library (default 5, --quick 2)
  --quick           fewer sockets, shorter CPU runs, 2 repetitions (iterating, ~4 min)
  --max             the issue's maxima for S1/S3: 5000 idle sockets + 500 in-flight requests
  --only S1,S3      run only these scenarios (ids: S1 S1-10k S2 S3 S4 S5 S6 S7 S8 S9 CPU
                    SC-1k SC-5k SC-10k SC-25k SC-50k: the scale curves, at most 3 reps)
  --libs a,b        run only these libraries (lastcall http-terminator stoppable http-shutdown
                    http-graceful-shutdown node-core; CPU and SC-* always add the bare
                    baseline, S1-10k and SC-* the destroy-all and destroy-batched baselines,
                    S2 and S4 lastcall-idle-grace-0)
  --out DIR         where to write terminator.md and terminator.json. Default: docs/benchmarks
                    for a full default run, a temporary folder for any partial or quick run,
                    so that iterating never overwrites the committed results
  --render FILE     run nothing: rewrite the markdown next to FILE (a terminator.json) from it,
                    e.g. after editing what-we-saw.md
  --help            this text
`;

function parseArgs(argv) {
  const options = {
    reps: null,
    quick: false,
    max: false,
    only: null,
    libs: null,
    out: null,
    render: null,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    const value = () => {
      const next = argv[index + 1];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      index += 1;
      return next;
    };
    if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--max') options.max = true;
    else if (arg === '--reps') options.reps = Number(value());
    else if (arg === '--only')
      options.only = value()
        .split(',')
        .map((id) => id.trim().toUpperCase());
    else if (arg === '--libs')
      options.libs = value()
        .split(',')
        .map((name) => name.trim());
    else if (arg === '--out') options.out = value();
    else if (arg === '--render') options.render = value();
    else throw new Error(`unknown option ${arg}\n\n${USAGE}`);
  }
  if (options.reps !== null && !(Number.isInteger(options.reps) && options.reps > 0)) {
    throw new Error(`--reps expects a positive integer, got ${options.reps}`);
  }
  if (options.quick && options.max) throw new Error('--quick and --max exclude each other');
  if (options.reps === null) options.reps = options.quick ? 2 : 5;
  return options;
}

module.exports = { parseArgs, USAGE };
