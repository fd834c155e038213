import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LastDitch } from '../src/index';
import type { CrashSummary, SmsMessage } from '../src/index';

let dir: string;
const savedEnv = process.env['NODE_ENV'];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'last-ditch-unit-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.env['NODE_ENV'] = savedEnv;
});

describe('LastDitch#report', () => {
  it('writes the crash log before returning and runs email, sms and messenger', async () => {
    const crashLog = path.join(dir, 'crash.log');
    const mails: { subject: string; text: string }[] = [];
    const texts: SmsMessage[] = [];
    const summaries: CrashSummary[] = [];
    const lastDitch = new LastDitch({
      crashLog,
      stderr: false,
      appName: 'shop',
      email: {
        transport: { sendMail: (mail) => void mails.push(mail) },
        to: 'ops@example.invalid',
      },
      sms: { send: (message) => void texts.push(message), to: '+15550000000', maxLength: 40 },
      messenger: (_error, summary) => void summaries.push(summary),
    });
    const pending = lastDitch.report(new Error('out of cheese'));
    expect(fs.readFileSync(crashLog, 'utf8')).toContain('out of cheese');
    const result = await pending;
    expect(result).toMatchObject({
      crashLog,
      stderr: false,
      targets: { email: 'sent', sms: 'sent', messenger: 'sent' },
    });
    expect(mails[0]?.subject).toBe(`[shop] crash on ${os.hostname()}: Error: out of cheese`);
    expect(mails[0]?.text).toContain(result.id);
    expect(mails[0]?.text).not.toContain('at ');
    expect(texts[0]?.body).toHaveLength(40);
    expect(summaries[0]).toMatchObject({ app: 'shop', reportId: result.id, origin: 'manual' });
    expect(summaries[0]?.stack).toBeUndefined();
  });

  it('waits for callback-style transports and reports their errors', async () => {
    const sent: string[] = [];
    const lastDitch = new LastDitch({
      crashLog: path.join(dir, 'crash.log'),
      stderr: false,
      email: {
        transport: {
          sendMail: (mail, callback) => {
            setTimeout(() => {
              sent.push(mail.subject);
              callback?.(null);
            }, 20);
          },
        },
        to: 'ops@example.invalid',
      },
      sms: {
        send: (_message, callback) => {
          setTimeout(() => {
            callback?.(new Error('carrier rejected'));
          }, 20);
        },
        to: '+15550000000',
      },
    });
    const result = await lastDitch.report(new Error('late'));
    expect(result.targets).toEqual({ email: 'sent', sms: 'failed' });
    expect(sent).toHaveLength(1);
  });

  it('puts the summary on one line and never splits a character when cutting', async () => {
    const mails: { subject: string }[] = [];
    const texts: SmsMessage[] = [];
    const lastDitch = new LastDitch({
      crashLog: path.join(dir, 'crash.log'),
      stderr: false,
      appName: 'shop',
      email: {
        transport: { sendMail: (mail) => void mails.push(mail) },
        to: 'ops@example.invalid',
      },
      sms: { send: (message) => void texts.push(message), to: '+15550000000', maxLength: 60 },
    });
    const prefix = `[shop] crash on ${os.hostname()}: Error: `;
    // The 😀 (two UTF-16 units) straddles the SMS cut: 57 units, then "...".
    const message = `${'a'.repeat(Math.max(0, 56 - prefix.length))}😀\n\tsecond line`;
    await lastDitch.report(new Error(message));
    expect(mails[0]?.subject).not.toMatch(/[\n\t]/);
    expect(mails[0]?.subject).toContain('😀 second line');
    const body = texts[0]?.body ?? '';
    expect(body.endsWith('...')).toBe(true);
    expect(body.length).toBeLessThanOrEqual(60);
    expect(body).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('marks a failing target failed without holding up the others', async () => {
    const lastDitch = new LastDitch({
      crashLog: path.join(dir, 'crash.log'),
      stderr: false,
      statsd: { increment: () => undefined },
      messenger: () => Promise.reject(new Error('pager down')),
    });
    const result = await lastDitch.report('a string was thrown');
    expect(result.targets).toEqual({ statsd: 'sent', messenger: 'failed' });
  });

  it('skips the paging notifiers when NODE_ENV is development', async () => {
    process.env['NODE_ENV'] = 'development';
    let mailCount = 0;
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      email: { transport: { sendMail: () => (mailCount += 1) }, to: 'ops@example.invalid' },
      messenger: () => undefined,
    });
    const result = await lastDitch.report(new Error('dev'));
    expect(result.targets).toEqual({ email: 'skipped', messenger: 'sent' });
    expect(mailCount).toBe(0);
  });

  it('calls the go() callback exactly once with the result', async () => {
    const lastDitch = new LastDitch({ crashLog: path.join(dir, 'c.log'), stderr: false });
    const calls = await new Promise<unknown[][]>((resolve) => {
      const seen: unknown[][] = [];
      lastDitch.go(new Error('cb'), (...args) => {
        seen.push(args);
        setTimeout(() => {
          resolve(seen);
        }, 20);
      });
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBeNull();
    expect(calls[0]?.[1]).toMatchObject({ crashLog: path.join(dir, 'c.log') });
  });

  it('installs no process handler until installHandlers() and removes them on uninstall', () => {
    const before = process.listenerCount('uncaughtException');
    const lastDitch = new LastDitch({ crashLog: false });
    expect(process.listenerCount('uncaughtException')).toBe(before);
    const uninstall = lastDitch.installHandlers();
    expect(process.listenerCount('uncaughtException')).toBe(before + 1);
    uninstall();
    expect(process.listenerCount('uncaughtException')).toBe(before);
  });
});

describe('the messenger option', () => {
  it("calls thehelp's function (err, options, cb) with a callback and waits for it", async () => {
    const calls: unknown[][] = [];
    let isCalledBack = false;
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      appName: 'shop',
      messenger: function (err, options, cb) {
        calls.push([err, options, typeof cb]);
        setTimeout(() => {
          isCalledBack = true;
          cb();
        }, 50);
      },
    });
    const error = new Error('paged');
    const result = await lastDitch.report(error);
    expect(isCalledBack).toBe(true);
    expect(result.targets).toEqual({ messenger: 'sent' });
    expect(calls).toEqual([
      [error, expect.objectContaining({ app: 'shop', reportId: result.id }), 'function'],
    ]);
  });

  it('marks a callback messenger failed when cb is given an error', async () => {
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      messenger: (_err, _options, cb) => {
        setTimeout(() => {
          cb(new Error('pager down'));
        }, 10);
      },
    });
    expect((await lastDitch.report(new Error('x'))).targets).toEqual({ messenger: 'failed' });
  });

  it('gives up on a callback messenger that never calls cb at the timeout', async () => {
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      timeout: 100,
      messenger: (_err, _options, _cb) => undefined,
    });
    expect((await lastDitch.report(new Error('x'))).targets).toEqual({ messenger: 'timeout' });
  });

  it('awaits a messenger that returns a promise', async () => {
    let isResolved = false;
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      messenger: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        isResolved = true;
      },
    });
    expect((await lastDitch.report(new Error('x'))).targets).toEqual({ messenger: 'sent' });
    expect(isResolved).toBe(true);
  });

  it('counts a two-parameter messenger that returns nothing as done when it returns', async () => {
    const argumentCounts: number[] = [];
    const lastDitch = new LastDitch({
      crashLog: false,
      stderr: false,
      timeout: 10_000,
      messenger: function (_err, _summary) {
        argumentCounts.push(arguments.length);
      },
    });
    expect((await lastDitch.report(new Error('x'))).targets).toEqual({ messenger: 'sent' });
    expect(argumentCounts).toEqual([2]);
  });
});
