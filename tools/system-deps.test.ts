/**
 * The first step of `npm test`: it finds the system tools the suites drive, names the exact
 * apt-get command for the missing ones, and stops at once when it may not install them.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  SYSTEM_TOOLS,
  findMissing,
  findOnPath,
  installCommand,
  planInstall,
} from './lib/system-deps-lib';

const SCRIPT = path.join(__dirname, 'system-deps.js');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lastcall-system-deps-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An executable file named `name` in the temp folder. */
function fakeTool(name: string, mode = 0o755): void {
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, mode);
}

describe('findOnPath', () => {
  it('finds an executable file and passes over a non-executable one and a folder', () => {
    fakeTool('siege', 0o644);
    const other = path.join(dir, 'bin');
    mkdirSync(path.join(dir, 'ab'));
    mkdirSync(other);
    writeFileSync(path.join(other, 'siege'), '#!/bin/sh\n');
    chmodSync(path.join(other, 'siege'), 0o755);
    const searchPath = ['', dir, other].join(path.delimiter);
    expect(findOnPath('siege', searchPath)).toBe(path.join(other, 'siege'));
    expect(findOnPath('ab', searchPath)).toBeUndefined();
  });
});

describe('planInstall', () => {
  const siege = SYSTEM_TOOLS.find((tool) => tool.command === 'siege')!;
  const ab = SYSTEM_TOOLS.find((tool) => tool.command === 'ab')!;

  it('does nothing when nothing is missing', () => {
    expect(planInstall([], { isRoot: false, hasAptGet: false, mayInstall: true })).toEqual({
      action: 'none',
    });
  });

  it('installs the Debian packages, each once, as root with apt-get', () => {
    expect(planInstall([siege, ab], { isRoot: true, hasAptGet: true, mayInstall: true })).toEqual({
      action: 'install',
      packages: ['siege', 'apache2-utils'],
    });
  });

  it('stops with the sudo command line when not root', () => {
    expect(planInstall([ab], { isRoot: false, hasAptGet: true, mayInstall: true })).toEqual({
      action: 'stop',
      line: 'system-deps: missing ab (apache2-utils); run: sudo apt-get update && sudo apt-get install -y --no-install-recommends apache2-utils',
    });
  });

  it('stops with the command line, without sudo, for root when installing is off', () => {
    const plan = planInstall([siege], { isRoot: true, hasAptGet: true, mayInstall: false });
    expect(plan).toEqual({
      action: 'stop',
      line: 'system-deps: missing siege (siege); run: apt-get update && apt-get install -y --no-install-recommends siege',
    });
  });

  it('names the packages when the machine has no apt-get', () => {
    const plan = planInstall([siege, ab], { isRoot: true, hasAptGet: false, mayInstall: true });
    expect(plan.action).toBe('stop');
    expect(plan).toMatchObject({ line: expect.stringContaining('siege apache2-utils') as unknown });
  });

  it('spells the install command for every tool the suites use', () => {
    expect(installCommand(SYSTEM_TOOLS, true)).toBe(
      'apt-get update && apt-get install -y --no-install-recommends siege apache2-utils iproute2 curl haproxy nginx tini',
    );
  });
});

describe('tools/system-deps.js', () => {
  function runScript(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, PATH: dir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('exits 0 when every tool is on PATH', () => {
    for (const tool of SYSTEM_TOOLS) fakeTool(tool.command);
    const result = runScript(['--check']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('system-deps: siege, ab, ip, curl, haproxy, nginx, tini found\n');
  });

  it('stops at once with one line naming the apt-get command for what is missing', () => {
    fakeTool('ip');
    fakeTool('curl');
    fakeTool('haproxy');
    fakeTool('nginx');
    fakeTool('tini');
    fakeTool('apt-get');
    const result = runScript(['--check']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^system-deps: missing siege \(siege\), ab \(apache2-utils\); run: (sudo )?apt-get update && (sudo )?apt-get install -y --no-install-recommends siege apache2-utils$/,
    );
    expect(findMissing(SYSTEM_TOOLS, dir).map((tool) => tool.command)).toEqual(['siege', 'ab']);
  });
});
