import type { CrashSummary, EmailTarget, SmsTarget } from './types';

/** The first line of every notification: `[app] crash on host: message`. */
export function summaryTitle(summary: CrashSummary): string {
  const message =
    summary.message.length > 200 ? `${summary.message.slice(0, 199)}…` : summary.message;
  return `[${summary.app}] crash on ${summary.host}: ${summary.name}: ${message}`;
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
  await target.transport.sendMail({
    ...(target.from === undefined ? {} : { from: target.from }),
    to: target.to,
    subject: summaryTitle(summary).slice(0, 200),
    text: summaryText(summary),
  });
}

/** Sends the title and the report id through the app's SMS `send` function, cut to `maxLength`. */
export async function sendSms(target: SmsTarget, summary: CrashSummary): Promise<void> {
  const maxLength = target.maxLength ?? 160;
  const full = `${summaryTitle(summary)} (${summary.reportId})`;
  const body = full.length > maxLength ? `${full.slice(0, Math.max(0, maxLength - 1))}…` : full;
  await target.send({
    ...(target.from === undefined ? {} : { from: target.from }),
    to: target.to,
    body,
  });
}
