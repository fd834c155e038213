/**
 * A keep-alive load against the app while one request crashes it. Each of ten clients keeps
 * one raw socket, sends its next request as soon as it has a response, and honours
 * `Connection: close` by opening a new socket. Exactly one request may fail: the crashing one,
 * with its 500. No 503, and no request on a reused socket is lost or reset.
 *
 * What a single process cannot avoid is counted apart: a new connection refused once the
 * listener closed, and a new connection reset because it was still in the kernel's accept
 * queue when the listener closed (it never got a byte). A load balancer or the cluster master
 * sends those to another instance.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { killApps, makeTempDir, readCrashLog, startApp } from '../../graceful/test/run-app';

afterEach(killApps);

const FIXTURE = path.join(__dirname, 'fixtures', 'app.js');
const CLIENTS = 10;

interface Tally {
  ok: number;
  crashed: number;
  shed: number;
  otherStatus: number[];
  refused: number;
  resetBeforeAccept: number;
  lost: string[];
}

type Outcome =
  | { readonly status: number }
  | { readonly error: string; readonly isFresh: boolean; readonly received: number };

/** One request on `state.socket` (a new one when there is none). */
function send(
  port: number,
  state: { socket: net.Socket | undefined },
  urlPath: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const isFresh = state.socket === undefined;
    const socket = state.socket ?? net.connect(port, '127.0.0.1');
    state.socket = socket;
    let received = '';
    let isDone = false;
    const finish = (outcome: Outcome): void => {
      if (isDone) return;
      isDone = true;
      socket.removeAllListeners();
      resolve(outcome);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = received.slice(0, headEnd);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (received.length < headEnd + 4 + length) return;
      if (/connection: *close/i.test(head)) {
        socket.on('error', () => undefined);
        socket.end();
        state.socket = undefined;
      }
      finish({ status: Number(head.split(' ')[1]) });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      state.socket = undefined;
      finish({ error: error.code ?? error.message, isFresh, received: received.length });
    });
    socket.on('close', () => {
      state.socket = undefined;
      finish({ error: 'closed', isFresh, received: received.length });
    });
    socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

describe.each(['express', 'express5'])('%s under a keep-alive load', (expressModule) => {
  it('loses only the crashing request, with its 500: no 503, no reused socket reset', async () => {
    const crashLog = path.join(makeTempDir(), 'crash.log');
    const app = startApp(
      {},
      { fixture: FIXTURE, env: { EXPRESS_MODULE: expressModule, LASTCALL_CRASH_LOG: crashLog } },
    );
    const port = (await app.waitFor('listening'))['port'] as number;
    const tally: Tally = {
      ok: 0,
      crashed: 0,
      shed: 0,
      otherStatus: [],
      refused: 0,
      resetBeforeAccept: 0,
      lost: [],
    };
    const deadline = Date.now() + 15_000;
    const client = async (): Promise<void> => {
      const state: { socket: net.Socket | undefined } = { socket: undefined };
      while (Date.now() < deadline) {
        const outcome = await send(port, state, '/slow?ms=5');
        if ('status' in outcome) {
          if (outcome.status === 200) tally.ok += 1;
          else if (outcome.status === 503) tally.shed += 1;
          else tally.otherStatus.push(outcome.status);
          continue;
        }
        if (outcome.error === 'ECONNREFUSED') tally.refused += 1;
        else if (outcome.isFresh && outcome.received === 0) tally.resetBeforeAccept += 1;
        else tally.lost.push(`${outcome.error} after ${String(outcome.received)} bytes`);
        return;
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const crash = await send(port, { socket: undefined }, '/crash/timer');
    if ('status' in crash && crash.status === 500) tally.crashed += 1;
    await Promise.all(clients);
    expect(await app.exited()).toEqual({ code: 1, signal: null });
    expect(tally.crashed).toBe(1);
    expect(tally.shed).toBe(0);
    expect(tally.otherStatus).toEqual([]);
    expect(tally.lost).toEqual([]);
    expect(tally.ok).toBeGreaterThan(CLIENTS);
    // Every client ended on the closed listener, one way or the other.
    expect(tally.refused + tally.resetBeforeAccept).toBe(CLIENTS);
    expect(readCrashLog(crashLog)).toHaveLength(1);
  });
});
