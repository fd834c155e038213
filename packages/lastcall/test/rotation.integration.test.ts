/**
 * A host in and out of rotation, end to end with the built `lastcall` bin: `disable` and
 * `enable`, the heartbeat's /readyz and /livez, `Connection: close` from the first moment of a
 * disable or a shutdown, the master's own shutdownDelay (not the workers'), the server timeouts
 * applied to the app's servers, the version the serving workers report, and the token.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { sleep, startLoad } from '../../master/test/support';
import { cliEnv, freePort, killClis, makeTempDir, runCli, spawnCli } from './cli-support';
import type { CliProcess } from './cli-support';

afterEach(killClis);

const APP = path.join(__dirname, 'fixtures', 'rotation-app.js');

/** The master's info lines say what it waits. */
const INFO = { LASTCALL_LOG_LEVEL: 'info' };

interface Host {
  readonly cli: CliProcess;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly appPort: number;
  readonly heartbeatPort: number;
}

/** `lastcall start` of the rotation app (copied beside a package.json of `version`). */
async function startHost(
  args: readonly string[] = [],
  { version = '1.0.0', env = {} }: { version?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Host> {
  const cwd = makeTempDir();
  fs.copyFileSync(APP, path.join(cwd, 'app.js'));
  fs.writeFileSync(path.join(cwd, 'package.json'), JSON.stringify({ name: 'rot', version }));
  const [appPort, heartbeatPort] = [await freePort(), await freePort()];
  const hostEnv = cliEnv(path.join(cwd, 'run'), env);
  const cli = spawnCli(
    [
      'start',
      'app.js',
      '--workers',
      '2',
      '--name',
      'rot',
      '--env',
      `PORT=${String(appPort)}`,
      '--heartbeat-port',
      String(heartbeatPort),
      ...args,
    ],
    cwd,
    hostEnv,
  );
  await cli.waitForLine(/is running 2 workers/, 30_000);
  return { cli, cwd, env: hostEnv, appPort, heartbeatPort };
}

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly keepAlive: string | undefined;
  readonly body: Record<string, unknown>;
}

/** One GET on a fresh connection: the status, the Connection header and the JSON body. */
function request(port: number, urlPath: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        agent: false,
        headers: { connection: 'keep-alive' },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          // A connection of its own for each request: closed here, whatever the server said.
          req.destroy();
          resolve({
            status: response.statusCode ?? 0,
            connection: response.headers.connection,
            keepAlive: response.headers['keep-alive'] as string | undefined,
            body: JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${urlPath}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

async function lastcall(host: Host, ...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCli(args, host.cwd, host.env);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return stdout;
}

describe('lastcall disable and enable', () => {
  it('take the host out of rotation and back: heartbeat 503 and Connection: close, still serving', async () => {
    const host = await startHost();
    expect(await request(host.appPort, '/')).toMatchObject({
      status: 200,
      connection: 'keep-alive',
    });
    expect((await request(host.heartbeatPort, '/readyz')).status).toBe(200);

    expect(await lastcall(host, 'disable', '--name', 'rot')).toMatch(
      /rot: rotation: out \(disabled\); heartbeat 503 disabled, version 1\.0\.0/,
    );
    expect(await request(host.heartbeatPort, '/readyz')).toMatchObject({
      status: 503,
      body: { status: 'disabled' },
    });
    expect((await request(host.heartbeatPort, '/ecv')).status).toBe(503);
    expect((await request(host.heartbeatPort, '/livez')).status).toBe(200);
    // Every worker says it, on every response, and serves on.
    for (let index = 0; index < 6; index += 1) {
      expect(await request(host.appPort, '/')).toMatchObject({ status: 200, connection: 'close' });
    }
    const status = JSON.parse(await lastcall(host, 'status', '--json', '--name', 'rot')) as {
      master: { disabled: boolean; health: { statusCode: number } };
    };
    expect(status.master).toMatchObject({ disabled: true, health: { statusCode: 503 } });
    expect(await lastcall(host, 'status', '--name', 'rot')).toMatch(/rotation: out \(disabled\)/);

    expect(await lastcall(host, 'enable', '--name', 'rot')).toMatch(
      /rot: rotation: in; heartbeat 200 ok/,
    );
    expect((await request(host.heartbeatPort, '/readyz')).status).toBe(200);
    for (let index = 0; index < 6; index += 1) {
      expect(await request(host.appPort, '/')).toMatchObject({
        status: 200,
        connection: 'keep-alive',
      });
    }
  });

  it('keep a replacement forked while disabled out of rotation too, and report the new version after a reload', async () => {
    const host = await startHost();
    await lastcall(host, 'disable', '--name', 'rot');
    fs.writeFileSync(path.join(host.cwd, 'package.json'), JSON.stringify({ version: '2.0.0' }));
    await lastcall(host, 'reload', '--name', 'rot');
    for (let index = 0; index < 6; index += 1) {
      expect(await request(host.appPort, '/')).toMatchObject({ status: 200, connection: 'close' });
    }
    await lastcall(host, 'enable', '--name', 'rot');
    expect(await request(host.heartbeatPort, '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ok', version: '2.0.0', versions: { '2.0.0': 2 } },
    });
    expect(await request(host.appPort, '/')).toMatchObject({
      status: 200,
      connection: 'keep-alive',
    });
  });
});

describe('SIGTERM to a master with a shutdown delay', () => {
  it('answers 503 on /readyz and Connection: close at once, serves through the delay, then drains and exits 0', async () => {
    const delay = 2000;
    // The app's own keepAliveTimeout (500 ms) is below undici's 1 s threshold, which would make
    // it open a connection for every request: the option keeps its connections alive.
    const host = await startHost(
      ['--shutdown-delay', String(delay), '--keep-alive-timeout', '65000'],
      { env: INFO },
    );
    // Keep-alive clients, which the delay's Connection: close makes reconnect on every request.
    // (A client that opens a connection at the very moment a lone host's port closes can be
    // reset by the kernel whatever the server does: behind a balancer none arrives by then.)
    const load = startLoad(host.appPort, { keepAlive: 8, fresh: 0, path: '/' });
    await sleep(300);
    const signalledAt = Date.now();
    host.cli.child.kill('SIGTERM');
    await sleep(delay / 4);
    // Within the delay: out of rotation, alive, still serving (a new connection is accepted).
    expect(await request(host.heartbeatPort, '/readyz')).toMatchObject({
      status: 503,
      body: { status: 'shutting-down' },
    });
    expect((await request(host.heartbeatPort, '/livez')).status).toBe(200);
    expect(await request(host.appPort, '/')).toMatchObject({ status: 200, connection: 'close' });
    expect(await host.cli.exited(30_000)).toBe(0);
    const tally = await load.stop();
    // The drain began only after the delay.
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(delay);
    expect(host.cli.stderr()).toContain(`waiting the shutdown delay (${String(delay)} ms)`);
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.statuses).toEqual([]);
    // Refused once the listeners closed after the delay: never accepted. A reset would be lost.
    expect(tally.errors.filter((error) => error !== 'ECONNREFUSED')).toEqual([]);
  });

  it("is the master's alone: a worker does not inherit LASTCALL_SHUTDOWN_DELAY", async () => {
    const host = await startHost([], { env: { ...INFO, LASTCALL_SHUTDOWN_DELAY: '1500' } });
    expect((await request(host.appPort, '/')).body).toMatchObject({ shutdownDelayEnv: null });
    host.cli.child.kill('SIGTERM');
    expect(await host.cli.exited(30_000)).toBe(0);
    // The master waited it once; no worker's graceful waited it again.
    expect(host.cli.stderr()).toContain('waiting the shutdown delay (1500 ms)');
    expect(host.cli.stderr()).not.toMatch(/"role":"worker[^}]*"shutdownDelay":1500/);
  });

  it('defaults to 3000 ms with a heartbeat', async () => {
    const host = await startHost([], { env: INFO });
    host.cli.child.kill('SIGTERM');
    expect(await host.cli.exited(30_000)).toBe(0);
    expect(host.cli.stderr()).toContain('waiting the shutdown delay (3000 ms)');
  });
});

describe('server timeouts and the token', () => {
  it("sets keepAliveTimeout and headersTimeout on the app's servers, over the app's own value", async () => {
    const host = await startHost(['--keep-alive-timeout', '65000', '--headers-timeout', '66000']);
    const answer = await request(host.appPort, '/');
    expect(answer.body).toMatchObject({ keepAliveTimeout: 65000, headersTimeout: 66000 });
    expect(answer.keepAlive).toBe('timeout=65');
  });

  it("leaves the app's own keepAliveTimeout without the option", async () => {
    const host = await startHost();
    expect((await request(host.appPort, '/')).body).toMatchObject({ keepAliveTimeout: 500 });
  });

  it('refuses a heartbeat beyond loopback without a token, and never prints a token', async () => {
    const cwd = makeTempDir();
    fs.copyFileSync(APP, path.join(cwd, 'app.js'));
    const env = cliEnv(path.join(cwd, 'run'));
    const refused = await runCli(
      ['start', 'app.js', '--heartbeat-port', '0', '--heartbeat-host', '0.0.0.0'],
      cwd,
      env,
    );
    expect(refused.code).toBe(9);
    expect(refused.stderr).toContain('need a token');

    const secret = 'tok-e2e-5f1c0d';
    const host = await startHost(['--heartbeat-host', '0.0.0.0', '--heartbeat-token', secret]);
    await lastcall(host, 'disable', '--name', 'rot');
    const status = await lastcall(host, 'status', '--json', '--name', 'rot');
    host.cli.child.kill('SIGTERM');
    expect(await host.cli.exited(30_000)).toBe(0);
    for (const text of [status, host.cli.stdout(), host.cli.stderr()]) {
      expect(text).not.toContain(secret);
    }
  });
});
