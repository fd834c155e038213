import type { CrashSummary, EmailTarget, SmsTarget } from './types';
import * as util from 'node:util';
import { describeValue } from '@lastcall/log-shim';

/**
 * `text` cut to at most `max` UTF-16 units with `marker` at the end, never splitting a
 * character made of a surrogate pair (an emoji would turn into a lone half).
 */
export function cutText(text: string, max: number, marker: string): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - marker.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}${marker}`;
}

/**
 * The first line of every notification: `[app] crash on host: Name: message`, on one line (a
 * line break in a mail subject or an SMS is up to the provider), at most about 250 characters.
 */
export function summaryTitle(summary: CrashSummary): string {
  const message = cutText(summary.message.replace(/\s+/g, ' ').trim(), 200, '…');
  return `[${summary.app}] crash on ${summary.host}: ${summary.name}: ${message}`;
}

/**
 * Awaits `holder[method](...args)` whichever way it reports: a returned promise (nodemailer, Twilio) or, when the
 * function declares more parameters than `args` (`function (err, options, cb)` for a messenger,
 * `sendMail(message, cb)`), a Node-style callback; then whichever comes first. A function that
 * returns nothing and takes no callback counts as done when it returns.
 */
export function callTransport(
  holder: object,
  method: string,
  args: readonly unknown[],
): Promise<void> {
  const call = (holder as Record<string, unknown>)[method] as (...args: unknown[]) => unknown;
  return new Promise((resolve, reject) => {
    const takesCallback = call.length > args.length;
    const callback: NodeCallback = (error) => {
      if (error === undefined || error === null) resolve();
      else reject(util.types.isNativeError(error) ? error : new Error(describeSafely(error)));
    };
    const returned: unknown = Reflect.apply(
      call,
      holder,
      takesCallback ? [...args, callback] : [...args],
    );
    if (isThenable(returned)) {
      returned.then(() => {
        resolve();
      }, reject);
    } else if (!takesCallback) {
      resolve();
    }
  });
}

/** `describeValue`, or a plain word for a value (a revoked Proxy) that throws when looked at. */
function describeSafely(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return `a ${typeof value}`;
  }
}

/** A Node-style completion callback, as transports that take one call it. */
type NodeCallback = (error?: unknown) => void;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The summary as plain text, for email. */
export function summaryText(summary: CrashSummary): string {
  const lines = [
    summaryTitle(summary),
    '',
    `report id: ${summary.reportId}`,
    `time: ${summary.timestamp}`,
    `origin: ${summary.origin}`,
    `pid: ${String(summary.pid)}`,
    `crash log: ${summary.crashLog ?? '(not written, see stderr)'}`,
  ];
  if (summary.stack !== undefined) lines.push('', summary.stack);
  return lines.join('\n');
}

/**
 * POSTs the summary as JSON to `url`, aborting at `timeout` ms. Rejects on a non-2xx answer.
 */
export async function postWebhook(
  url: string,
  summary: CrashSummary,
  timeout: number,
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(summary),
    signal: AbortSignal.timeout(timeout),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook answered HTTP ${String(response.status)}`);
}

/** Sends the summary through the app's `sendMail`-style transport. */
export async function sendEmail(target: EmailTarget, summary: CrashSummary): Promise<void> {
  await callTransport(target.transport, 'sendMail', [
    {
      ...(target.from === undefined ? {} : { from: target.from }),
      to: target.to,
      subject: cutText(summaryTitle(summary), 200, '…'),
      text: summaryText(summary),
    },
  ]);
}

/**
 * Sends the title and the report id through the app's SMS `send` function, cut to `maxLength`
 * with `...`: `…` is not in the GSM 7-bit alphabet, and one such character makes the whole
 * message UCS-2, 70 characters a segment instead of 160.
 */
export async function sendSms(target: SmsTarget, summary: CrashSummary): Promise<void> {
  const body = cutText(
    `${summaryTitle(summary)} (${summary.reportId})`,
    target.maxLength ?? 160,
    '...',
  );
  await callTransport(target, 'send', [
    { ...(target.from === undefined ? {} : { from: target.from }), to: target.to, body },
  ]);
}
