import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getLogger, reopenLogs, setLogger, setupLogs } from '../src';
import type { LogFiles } from '../src';
import { codeOf } from './support';

let tempDir: string;
let opened: LogFiles[];

beforeEach(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-shim-'));
  opened = [];
});

afterEach(() => {
  for (const files of opened) files.close();
  setLogger(undefined);
  delete process.env['LASTCALL_LOGS_DIR'];
  delete process.env['THEHELP_LOGS_DIR'];
  fs.rmSync(tempDir, { recursive: true, force: true });
});

function setup(options: Parameters<typeof setupLogs>[0] = {}): LogFiles {
  const files = setupLogs({ console: false, ...options });
  opened.push(files);
  return files;
}

function readLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('setupLogs', () => {
  it('writes one JSON line per event to <dir>/master-<timestamp>-<pid>.log', () => {
    const files = setup({ dir: tempDir, level: 'trace' });
    const name = path.basename(files.file);
    expect(path.dirname(files.file)).toBe(tempDir);
    expect(name).toMatch(
      new RegExp(
        `^master-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d-\\d{3}Z-${String(process.pid)}\\.log$`,
      ),
    );
    expect(name).not.toContain(':');
    const log = getLogger('test:files', { role: 'master' });
    log.trace('t');
    log.fatal('crashed', new Error('boom'));
    expect(fs.readdirSync(tempDir)).toEqual([name]);
    expect(readLines(files.file)).toMatchObject([
      { level: 'trace', message: 't', name: 'test:files', role: 'master' },
      { level: 'fatal', message: 'crashed', err: { name: 'Error', message: 'boom' } },
    ]);
  });

  it('takes the folder from LASTCALL_LOGS_DIR, then THEHELP_LOGS_DIR', () => {
    process.env['THEHELP_LOGS_DIR'] = path.join(tempDir, 'thehelp');
    expect(path.dirname(setup().file)).toBe(path.join(tempDir, 'thehelp'));
    process.env['LASTCALL_LOGS_DIR'] = path.join(tempDir, 'lastcall');
    expect(path.dirname(setup().file)).toBe(path.join(tempDir, 'lastcall'));
    expect(path.dirname(setup({ dir: path.join(tempDir, 'option') }).file)).toBe(
      path.join(tempDir, 'option'),
    );
  });

  it('reopens the file at the same path after logrotate moved it, losing no line', () => {
    const files = setup({ dir: tempDir });
    const log = getLogger('test:rotate');
    log.info('before');
    fs.renameSync(files.file, `${files.file}.1`);
    log.info('between');
    reopenLogs();
    log.info('after');
    expect(readLines(`${files.file}.1`).map((line) => line['message'])).toEqual([
      'before',
      'between',
    ]);
    expect(readLines(files.file).map((line) => line['message'])).toEqual(['after']);
  });

  it('names the exact install command when the app has no winston', () => {
    const action = () => setupLogs({ dir: tempDir, resolveFrom: tempDir });
    expect(codeOf(action)).toBe('LASTCALL_ERR_LOG_SHIM_WINSTON_MISSING');
    expect(action).toThrow(/\n {2}npm install winston\n/);
  });

  it('rejects bad options, naming them', () => {
    expect(codeOf(() => setupLogs({ level: 'loud' as 'info' }))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS',
    );
    expect(() => setupLogs({ dri: 'x' } as unknown as { dir: string })).toThrow(
      /unknown option "dri"/,
    );
    expect(codeOf(() => setupLogs({ dir: 3 as unknown as string }))).toBe(
      'LASTCALL_ERR_LOG_SHIM_INVALID_OPTIONS',
    );
  });

  it('fails with a coded error when the folder cannot be created', () => {
    const blocker = path.join(tempDir, 'a-file');
    fs.writeFileSync(blocker, '');
    expect(codeOf(() => setup({ dir: path.join(blocker, 'logs') }))).toBe(
      'LASTCALL_ERR_LOG_SHIM_LOGS_DIR_FAILED',
    );
  });
});
