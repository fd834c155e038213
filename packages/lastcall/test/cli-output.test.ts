import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageFailure } from '../src/cli/args';
import { loadConfig } from '../src/cli/config';
import { masterOptions } from '../src/cli/start';
import { resolved, startArgs } from './cli-unit-support';

describe('lastcall start --output', () => {
  it('reads inherit and log, and leaves the option out without the flag', () => {
    expect(startArgs('--output', 'log').output).toBe('log');
    expect(startArgs('--output', 'inherit').output).toBe('inherit');
    expect('output' in startArgs()).toBe(false);
  });

  it('refuses any other mode with a usage failure naming the flag', () => {
    expect(() => startArgs('--output', 'file')).toThrow(UsageFailure);
    expect(() => startArgs('--output', 'file')).toThrow(
      'start: --output must be inherit or log, got "file"',
    );
  });

  it("passes the flag to the master, over the configuration file's output", () => {
    expect(masterOptions(startArgs('--output', 'log'), {}, resolved).output).toBe('log');
    expect(
      masterOptions(startArgs('--output', 'inherit'), { output: 'log' }, resolved).output,
    ).toBe('inherit');
    expect(masterOptions(startArgs(), { output: 'log' }, resolved).output).toBe('log');
    expect('output' in masterOptions(startArgs(), {}, resolved)).toBe(false);
  });

  it("takes output: 'log' from a JSON configuration file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lastcall-output-'));
    try {
      fs.writeFileSync(path.join(dir, 'lastcall.config.json'), '{ "output": "log" }');
      const { config } = await loadConfig(dir, undefined);
      expect(masterOptions(startArgs(), config, resolved).output).toBe('log');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
