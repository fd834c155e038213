import { LastDitch, LastDitchError } from '../src/index';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof LastDitchError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return undefined;
}

describe('new LastDitch() options', () => {
  it('accepts no options and every documented option', () => {
    expect(() => new LastDitch()).not.toThrow();
    expect(
      new LastDitch({
        crashLog: false,
        stderr: false,
        appName: 'shop',
        timeout: 50,
        statsd: { increment: () => undefined },
        webhook: 'http://127.0.0.1:9/hook',
        email: { transport: { sendMail: () => undefined }, to: 'ops@example.invalid' },
        sms: { send: () => undefined, to: '+15550000000', maxLength: 70 },
        messenger: () => undefined,
        includeStack: true,
        redact: [/x/, 'y'],
        maxStringLength: 100,
      }),
    ).toBeInstanceOf(LastDitch);
  });

  it.each([
    [
      42,
      'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS: new LastDitch(): options must be an object, got the number 42',
    ],
    [
      { timout: 5 },
      'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS: new LastDitch(): unknown option "timout"',
    ],
    [
      { timeout: '2000' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TIMEOUT: new LastDitch(): option "timeout" must be a finite number > 0',
    ],
    [{ timeout: -1 }, 'LASTCALL_ERR_LAST_DITCH_INVALID_TIMEOUT: new LastDitch(): option "timeout"'],
    [
      { crashLog: '' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS: new LastDitch(): option "crashLog" must be a non-empty string, got the string ""',
    ],
    [
      { stderr: 'yes' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_OPTIONS: new LastDitch(): option "stderr" must be a boolean',
    ],
    [
      { statsd: 'nohost' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "statsd" must be a client',
    ],
    [
      { webhook: 'ftp://x' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "webhook" must be an http(s) URL',
    ],
    [
      { email: { to: 'a' } },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "email" must be an object { transport: { sendMail }, to }',
    ],
    [
      { sms: { send: (): undefined => undefined } },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "sms" must be an object { send, to }',
    ],
    [
      { sms: { send: (): undefined => undefined, to: '+1', maxLength: Number.NaN } },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "sms.maxLength" must be an integer number of characters, at least 20, got',
    ],
    [
      { sms: { send: (): undefined => undefined, to: '+1', maxLength: 5 } },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "sms.maxLength" must be an integer',
    ],
    [
      { messenger: 'ops' },
      'LASTCALL_ERR_LAST_DITCH_INVALID_TARGET: new LastDitch(): option "messenger" must be a function',
    ],
    [
      { redact: [/ok/, 3] },
      'LASTCALL_ERR_LAST_DITCH_INVALID_PATTERN: new LastDitch(): option "redact[1]" must be a RegExp or a non-empty string, got the number 3',
    ],
  ])('rejects %p synchronously with a coded message', (options, expected) => {
    expect(codeOf(() => new LastDitch(options as never))).toContain(expected);
  });
});
