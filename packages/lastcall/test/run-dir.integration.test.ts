/**
 * The control channel against another local user, for real: a second user made with `useradd`
 * (the tests run as root; it is removed afterwards) tries to take over the run folder before the
 * master starts, and to reach the control socket of a running master. Every command of the
 * victim refuses the hijacked folder (exit 11) and never talks to the intruder's socket.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { WORKER_APP, freePort, killClis, makeTempDir, runCli, spawnCli } from './cli-support';

// Unique per run: a user left behind by a killed run never collides with the next one.
const ATTACKER = `lcx${Date.now().toString(36)}${String(process.pid % 1000)}`;
let attacker: { uid: number; gid: number };
/** A copy of this Node that the second user can run, whatever the modes of the folders above ours. */
let intruderNode: string;
const intruders = new Set<ChildProcessByStdio<null, Readable, Readable>>();

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error('this suite makes a second user with useradd: run the tests as root');
  }
  const made = spawnSync(
    'useradd',
    ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ATTACKER],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (made.status !== 0) throw new Error(`useradd ${ATTACKER} failed: ${made.stderr}`);
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, ATTACKER], { encoding: 'utf8' }).stdout.trim());
  attacker = { uid: id('-u'), gid: id('-g') };
  // Not makeTempDir(): killClis() removes those after each test.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-intruder-node-'));
  fs.chmodSync(dir, 0o755);
  intruderNode = path.join(dir, 'node');
  fs.copyFileSync(process.execPath, intruderNode);
  fs.chmodSync(intruderNode, 0o755);
});

afterAll(async () => {
  fs.rmSync(path.dirname(intruderNode), { recursive: true, force: true });
  // userdel refuses while a process of the user lives: wait for the intruders to be gone.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const deleted = spawnSync('userdel', [ATTACKER], { encoding: 'utf8', timeout: 20_000 });
    if (deleted.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`userdel ${ATTACKER} kept failing`);
});

afterEach(async () => {
  const gone = [...intruders].map(
    (child) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
        else child.once('close', resolve);
      }),
  );
  for (const child of intruders) child.kill('SIGKILL');
  intruders.clear();
  await Promise.race([Promise.all(gone), new Promise((resolve) => setTimeout(resolve, 5000))]);
  killClis();
});

/** A temp folder like /tmp: everyone may create entries, only owners may remove theirs. */
function sharedTmp(): string {
  const dir = makeTempDir();
  fs.chmodSync(dir, 0o1777);
  return dir;
}

/** Runs a script as the second user; resolves once it prints `ready`. */
async function asIntruder(script: string): Promise<{ output: () => string }> {
  const child = spawn(intruderNode, ['-e', script], {
    cwd: path.dirname(intruderNode),
    uid: attacker.uid,
    gid: attacker.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  intruders.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const deadline = Date.now() + 10_000;
  while (!output.includes('ready') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!output.includes('ready')) throw new Error(`the intruder's script failed: ${output}`);
  return { output: () => output };
}

/** The victim's environment: the default run folder, under the given temp folder. */
function victimEnv(tmp: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], TMPDIR: tmp, LASTCALL_LOG_LEVEL: 'warn' };
}

it('refuses a run folder another user made first: no start, and reload never reaches their socket', async () => {
  const tmp = sharedTmp();
  const runDir = path.join(tmp, 'lastcall-0');
  // The intruder makes root's default run folder, with a pid file naming a live process (its
  // own) and a control socket that answers "reloaded" to anyone.
  const intruder = await asIntruder(`
    const fs = require('fs'), net = require('net'), path = require('path');
    const dir = ${JSON.stringify(runDir)};
    fs.mkdirSync(dir, { mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    fs.writeFileSync(path.join(dir, 'shop.pid'), String(process.pid));
    net.createServer((socket) => {
      console.log('victim connected');
      socket.end(JSON.stringify({ ok: true, report: { replaced: [], duration: 1 } }) + '\\n');
    }).listen(path.join(dir, 'shop.sock'), () => {
      fs.chmodSync(path.join(dir, 'shop.sock'), 0o777);
      console.log('ready');
    });
  `);
  expect(fs.statSync(runDir).uid).toBe(attacker.uid);

  const cwd = makeTempDir();
  for (const command of ['reload', 'stop', 'status']) {
    const result = await runCli([command, '--name', 'shop'], cwd, victimEnv(tmp));
    expect({ command, code: result.code }).toEqual({ command, code: 11 });
    expect(result.stderr).toMatch(
      new RegExp(
        `^lastcall: LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR: the run folder ${runDir} is not safe to use: it belongs to uid ${String(attacker.uid)}`,
      ),
    );
    expect(result.stdout).toBe('');
  }

  const port = await freePort();
  const start = await runCli(
    ['start', WORKER_APP, '--name', 'cart', '--env', `PORT=${String(port)}`],
    cwd,
    victimEnv(tmp),
  );
  expect(start.code).toBe(11);
  expect(start.stderr).toMatch(/LASTCALL_ERR_LASTCALL_UNSAFE_RUN_DIR/);
  expect(fs.readdirSync(runDir).sort()).toEqual(['shop.pid', 'shop.sock']);
  expect(intruder.output()).not.toContain('victim connected');
});

it("keeps another user out of a running master's run folder and control socket", async () => {
  const tmp = sharedTmp();
  const runDir = path.join(tmp, 'lastcall-0');
  const cwd = makeTempDir();
  const port = await freePort();
  const cli = spawnCli(
    ['start', WORKER_APP, '--workers', '1', '--name', 'shop', '--env', `PORT=${String(port)}`],
    cwd,
    victimEnv(tmp),
  );
  await cli.waitForLine(/^lastcall: shop is running 1 worker/, 20_000);
  const socket = path.join(runDir, 'shop.sock');
  expect(fs.statSync(runDir).mode & 0o777).toBe(0o700);
  expect(fs.lstatSync(socket).isSocket()).toBe(true);
  expect(fs.lstatSync(socket).mode & 0o777).toBe(0o600);

  const intruder = await asIntruder(`
    const fs = require('fs'), net = require('net');
    const tries = [];
    try { fs.writeFileSync(${JSON.stringify(path.join(runDir, 'evil'))}, 'x'); tries.push('wrote'); }
    catch (error) { tries.push(error.code); }
    try { fs.readdirSync(${JSON.stringify(runDir)}); tries.push('listed'); }
    catch (error) { tries.push(error.code); }
    const client = net.connect(${JSON.stringify(socket)});
    client.on('connect', () => { client.write('{"command":"stop"}\\n'); tries.push('connected'); });
    client.on('error', (error) => { tries.push(error.code); console.log(tries.join(' ')); console.log('ready'); });
  `);
  expect(intruder.output()).toMatch(/^EACCES EACCES EACCES\n/);

  const status = await runCli(['status', '--name', 'shop', '--json'], cwd, victimEnv(tmp));
  expect(status.code).toBe(0);
  expect((JSON.parse(status.stdout) as { workers: unknown[] }).workers).toHaveLength(1);
  const stop = await runCli(['stop', '--name', 'shop'], cwd, victimEnv(tmp));
  expect(stop.code).toBe(0);
  expect(await cli.exited(20_000)).toBe(0);
});
