'use strict';
/**
 * `npm start`: runs the demo through the real `lastcall` command line, with 2 workers on
 * http://127.0.0.1:3000 and the heartbeat on 127.0.0.1:3001, and prints what to try. Ctrl-C
 * (or SIGTERM) drains the workers and exits. PORT and HEARTBEAT_PORT change the ports.
 *
 * The master runs under the default name (the repo's package.json name), from the repo's root,
 * so that `npx lastcall status | reload | stop`, typed in the repo, find it without a flag.
 */
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'packages', 'lastcall', 'dist', 'cli.js');
const port = process.env.PORT ?? '3000';
const heartbeatPort = process.env.HEARTBEAT_PORT ?? '3001';

const child = spawn(
  process.execPath,
  [
    cli,
    'start',
    path.join(__dirname, 'server.js'),
    '--workers',
    '2',
    '--heartbeat-port',
    heartbeatPort,
    '--env',
    `PORT=${port}`,
  ],
  { cwd: root, stdio: 'inherit', env: { LASTCALL_LOG_LEVEL: 'info', ...process.env } },
);

// Ctrl-C reaches the master by itself (same process group): it drains and exits, and so do we,
// after it. Passing SIGINT on as well would be a second one, which kills at once.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => {
  child.kill('SIGTERM');
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128));
});

function heartbeatUp(attempt) {
  const request = http.get(`http://127.0.0.1:${heartbeatPort}/ecv`, (response) => {
    response.resume();
    if (response.statusCode === 200) {
      printHints();
      return;
    }
    retry(attempt);
  });
  request.on('error', () => {
    retry(attempt);
  });
}

function retry(attempt) {
  if (attempt < 300 && child.exitCode === null) setTimeout(() => heartbeatUp(attempt + 1), 100);
}

function printHints() {
  const url = `http://127.0.0.1:${port}`;
  const tries = [
    [`curl ${url}/`, 'hello from worker 0 or 1'],
    [`curl '${url}/slow?ms=3000'`, 'a slow request; reload meanwhile: it completes'],
    [`curl ${url}/crash`, 'only this request fails; a replacement is forked at once'],
    [`curl http://127.0.0.1:${heartbeatPort}/ecv`, 'what a load balancer sees'],
    ['npx lastcall status', 'the workers: pid, state, uptime, memory, requests'],
    ['npx lastcall reload', 'rolling restart, zero failed requests'],
    ['npx lastcall stop', 'drain and exit (or Ctrl-C here)'],
  ];
  const width = Math.max(...tries.map(([command]) => command.length));
  process.stdout.write(
    [
      '',
      `The demo runs: 2 workers on ${url}, the heartbeat on http://127.0.0.1:${heartbeatPort}/ecv`,
      'Try, in another terminal, in this repo:',
      ...tries.map(([command, what]) => `  ${command.padEnd(width)}   # ${what}`),
      '',
    ].join('\n') + '\n',
  );
}

heartbeatUp(0);
