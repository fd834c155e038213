import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

const example = path.join(__dirname, '..', '..', '..', 'examples', 'single-process', 'server.js');
let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent: false },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('error', reject);
    request.setTimeout(5000, () => request.destroy(new Error(`GET ${urlPath} timed out`)));
  });
}

describe('examples/single-process', () => {
  it('serves, turns /ready 503 during the delay, closes the server before the pool and exits 0', async () => {
    const started = spawn(process.execPath, [example], {
      env: { PATH: process.env['PATH'], PORT: '0', LASTCALL_SHUTDOWN_DELAY: '400' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let stdout = '';
    const lines: (() => void)[] = [];
    started.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      for (const wake of lines) wake();
    });
    const waitForLine = (pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(`no line matching ${String(pattern)} within ${String(ms)} ms:\n${stdout}`),
          );
        }, ms);
        const check = (): void => {
          const match = pattern.exec(stdout);
          if (match === null) return;
          clearTimeout(timer);
          resolve(match);
        };
        lines.push(check);
        check();
      });
    const exited = new Promise<number | null>((resolve) => started.on('close', resolve));

    const port = Number((await waitForLine(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    expect(await get(port, '/ready')).toEqual({ status: 200, body: 'ready\n' });
    expect((await get(port, '/')).status).toBe(200);
    started.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Within the 400 ms delay the server still answers, and readiness says to stop routing.
    expect(await get(port, '/ready')).toEqual({ status: 503, body: 'shutting down\n' });
    expect(await get(port, '/live')).toEqual({ status: 200, body: 'alive\n' });
    expect(await exited).toBe(0);
    const order = stdout
      .split('\n')
      .filter((line) =>
        /^(shutting down|http server closed|database pool closed|exiting)/.test(line),
      )
      .map((line) => line.replace(/:.*$/, ''));
    expect(order).toEqual([
      'shutting down (signal)',
      'http server closed',
      'database pool closed',
      'exiting with 0',
    ]);
  });
});
