import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress } from 'smtp-server';
import {
  jsonLines,
  killFixtures,
  makeTempDir,
  runFixture,
  startRecordingServer,
} from './run-fixture';
import type { FixtureRun } from './run-fixture';

interface ReceivedMail {
  readonly from: string | undefined;
  readonly to: readonly string[];
  /** Header names lower-cased, folded lines unfolded. */
  readonly headers: Readonly<Record<string, string>>;
  /** The text body, transfer-decoded, with `\n` line ends. */
  readonly body: string;
  readonly raw: string;
}

const SECRET = 's3cr3t-token-value-123';

const smtpServers: SMTPServer[] = [];

afterEach(async () => {
  killFixtures();
  // closeTimeout (below) bounds this wait: open sessions are dropped after it.
  await Promise.all(
    smtpServers.splice(0).map((server) => new Promise<void>((resolve) => server.close(resolve))),
  );
});

/** The only entry of the crash log, after checking the file holds exactly one complete line. */
function readOnlyEntry(crashLog: string): Record<string, unknown> {
  const text = fs.readFileSync(crashLog, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  expect(text.split('\n')).toHaveLength(2);
  const entries = jsonLines(text);
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

function reportedResult(run: FixtureRun): { id: string; targets: Record<string, string> } {
  const reported = jsonLines(run.stdout).filter((line) => line['event'] === 'reported');
  expect(reported).toHaveLength(1);
  return reported[0]!['result'] as { id: string; targets: Record<string, string> };
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding !== 'quoted-printable') return body;
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Splits one message from the DATA stream into unfolded headers and its decoded text body. */
function parseMail(
  raw: string,
  envelope: { from: string | undefined; to: string[] },
): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const headerText = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
  const headers: Record<string, string> = {};
  for (const line of headerText.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = decodeBody(raw.slice(split + 4), headers['content-transfer-encoding']);
  return { ...envelope, headers, body: body.replace(/\r\n/g, '\n'), raw };
}

/** A real SMTP server on 127.0.0.1:0 that records every session and every message. */
async function startSmtp(): Promise<{ port: number; mails: ReceivedMail[]; sessions: number[] }> {
  const mails: ReceivedMail[] = [];
  const sessions: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 1000,
    onConnect(_session, callback) {
      sessions.push(Date.now());
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        const from = mailFrom === false ? undefined : mailFrom.address;
        const to = rcptTo.map((recipient: SMTPServerAddress) => recipient.address);
        mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), { from, to }));
        callback();
      });
    },
  });
  smtpServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, sessions };
}

/** A real HTTP server on 127.0.0.1:0 standing in for an SMS provider; records every body. */
function startSmsEndpoint(): Promise<{ url: string; bodies: string[] }> {
  return startRecordingServer({ path: '/messages', answer: '{"status":"queued"}' });
}

describe('an unhandled rejection in a child that installed the handlers', () => {
  it('writes one fatal unhandledRejection line, the same id on stderr, and exits 1', async () => {
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const run = await runFixture(
      { mode: 'reject', message: 'rejected in a timer' },
      {
        fixture: 'targets-child.js',
        env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' },
      },
    );
    expect(run.code).toBe(1);
    const entry = readOnlyEntry(crashLog);
    expect(entry).toMatchObject({
      level: 'fatal',
      origin: 'unhandledRejection',
      app: 'shop',
      role: 'master',
      error: { name: 'Error', message: 'rejected in a timer' },
    });
    expect(jsonLines(run.stderr).map((line) => line['id'])).toEqual([entry['id']]);
  });

  it('shows a rejected string as NonError with its type and value, and exits 1', async () => {
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const run = await runFixture(
      { mode: 'reject', rejectWith: 'plain string' },
      { fixture: 'targets-child.js', env: { LASTCALL_CRASH_LOG: crashLog } },
    );
    expect(run.code).toBe(1);
    const entry = readOnlyEntry(crashLog);
    expect(entry).toMatchObject({
      level: 'fatal',
      origin: 'unhandledRejection',
      error: { name: 'NonError', thrownType: 'string', message: 'plain string' },
    });
    expect(jsonLines(run.stderr).map((line) => line['id'])).toEqual([entry['id']]);
  });
});

describe('a crash in a cluster worker', () => {
  it('logs role "worker 1" with the primary as ppid, and the worker exits 1', async () => {
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const run = await runFixture(
      {},
      {
        fixture: 'cluster-crash.js',
        env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' },
      },
    );
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const primary = lines.find((line) => line['event'] === 'primary');
    const forked = lines.find((line) => line['event'] === 'forked');
    const workerExit = lines.filter((line) => line['event'] === 'worker-exit');
    expect(workerExit).toEqual([
      { event: 'worker-exit', id: 1, pid: forked?.['pid'], code: 1, signal: null },
    ]);
    const entry = readOnlyEntry(crashLog);
    expect(entry).toMatchObject({
      origin: 'uncaughtException',
      app: 'shop',
      role: 'worker 1',
      error: { message: 'worker kaboom' },
    });
    expect(entry['pid']).toBe(forked?.['pid']);
    expect(entry['ppid']).toBe(primary?.['pid']);
    expect(entry['ppid']).not.toBe(entry['pid']);
    expect(jsonLines(run.stderr).map((line) => line['id'])).toEqual([entry['id']]);
  });
});

describe('email through nodemailer to a real SMTP server', () => {
  const message = `payment gateway failed with ${SECRET}`;

  async function reportByEmail(
    options: object,
  ): Promise<{ mails: ReceivedMail[]; run: FixtureRun; crashLog: string }> {
    const smtp = await startSmtp();
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const run = await runFixture(
      { mode: 'report', message, smtpPort: smtp.port, options: { timeout: 5000, ...options } },
      {
        fixture: 'targets-child.js',
        env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop', API_TOKEN: SECRET },
      },
    );
    return { mails: smtp.mails, run, crashLog };
  }

  it('sends one mail with the title, report id and crash log path, and no stack or secret', async () => {
    const { mails, run, crashLog } = await reportByEmail({});
    expect(run.code).toBe(0);
    const result = reportedResult(run);
    expect(result.targets).toEqual({ email: 'sent' });
    const entry = readOnlyEntry(crashLog);
    expect(result.id).toBe(entry['id']);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.from).toBe('app@example.test');
    expect(mail.to).toEqual(['oncall@example.test']);
    expect(mail.headers['to']).toBe('oncall@example.test');
    expect(mail.headers['subject']).toBe(
      `[shop] crash on ${String(entry['hostname'])}: Error: payment gateway failed with [REDACTED]`,
    );
    expect(mail.body).toContain(`report id: ${result.id}\n`);
    expect(mail.body).toContain(`crash log: ${crashLog}`);
    expect(mail.body).not.toMatch(/^\s+at /m);
    expect(mail.body).not.toContain('targets-child.js');
    expect(mail.raw).not.toContain(SECRET);
    expect(mail.body).not.toContain(SECRET);
    expect(fs.readFileSync(crashLog, 'utf8')).not.toContain(SECRET);
  });

  it('puts the redacted stack in the mail with includeStack: true', async () => {
    const { mails, run, crashLog } = await reportByEmail({ includeStack: true });
    expect(run.code).toBe(0);
    expect(reportedResult(run).targets).toEqual({ email: 'sent' });
    expect(mails).toHaveLength(1);
    const body = mails[0]!.body;
    const stack = (readOnlyEntry(crashLog)['error'] as { stack: string }).stack;
    expect(stack).toMatch(/^Error: payment gateway failed with \[REDACTED\]\n\s+at /);
    expect(body).toContain(stack);
    expect(body).toMatch(/^\s+at .*targets-child\.js:\d+:\d+/m);
    expect(mails[0]!.raw).not.toContain(SECRET);
    expect(body).not.toContain(SECRET);
  });
});

describe('SMS through a user send function to a real HTTP endpoint', () => {
  it('sends one message to the number, cut to maxLength with a GSM-safe "..."', async () => {
    const sms = await startSmsEndpoint();
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const message = 'queue consumer stalled while draining the orders topic';
    const run = await runFixture(
      { mode: 'report', message, smsUrl: sms.url, options: { timeout: 5000 } },
      {
        fixture: 'targets-child.js',
        env: { LASTCALL_CRASH_LOG: crashLog, LASTCALL_APP_NAME: 'shop' },
      },
    );
    expect(run.code).toBe(0);
    const result = reportedResult(run);
    expect(result.targets).toEqual({ sms: 'sent' });
    expect(sms.bodies).toHaveLength(1);
    const sent = JSON.parse(sms.bodies[0]!) as { to: string; body: string };
    expect(sent.to).toBe('+15550001111');
    expect(sent.body.length).toBeLessThanOrEqual(60);
    expect(sent.body.startsWith('[shop] crash on ')).toBe(true);
    expect(sent.body.endsWith('...')).toBe(true);
    const hostname = String(readOnlyEntry(crashLog)['hostname']);
    const full = `[shop] crash on ${hostname}: Error: ${message} (${result.id})`;
    expect(sent).toEqual({ to: '+15550001111', body: `${full.slice(0, 57)}...` });
  });
});

describe('NODE_ENV=development', () => {
  it('skips email and SMS, contacts neither server, and still writes the crash log', async () => {
    const smtp = await startSmtp();
    const sms = await startSmsEndpoint();
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const run = await runFixture(
      {
        mode: 'report',
        message: 'quiet in development',
        smtpPort: smtp.port,
        smsUrl: sms.url,
        options: { timeout: 5000 },
      },
      {
        fixture: 'targets-child.js',
        env: { LASTCALL_CRASH_LOG: crashLog, NODE_ENV: 'development' },
      },
    );
    expect(run.code).toBe(0);
    const result = reportedResult(run);
    expect(result.targets).toEqual({ email: 'skipped', sms: 'skipped' });
    expect(smtp.sessions).toHaveLength(0);
    expect(smtp.mails).toHaveLength(0);
    expect(sms.bodies).toHaveLength(0);
    const entry = readOnlyEntry(crashLog);
    expect(entry['id']).toBe(result.id);
    expect(entry['error']).toMatchObject({ name: 'Error', message: 'quiet in development' });
  });
});
