/**
 * examples/demo, as `npm start` runs it (after the build): the demo app under the real CLI, with
 * its hints printed, `/` from both workers, `/crash` costing only its own request, and SIGTERM
 * draining everything with exit 0.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { get, startLoad } from '../../master/test/support';
import { cliEnv, freePort, killClis, makeTempDir } from './cli-support';

afterEach(killClis);

const START = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo', 'start.js');

it('runs the demo: hints, two workers, a crash that costs one request, SIGTERM exits 0', async () => {
  const [port, heartbeatPort] = [await freePort(), await freePort()];
  const cwd = makeTempDir();
  const child = spawn(process.execPath, [START], {
    cwd,
    env: cliEnv(path.join(cwd, 'run'), {
      PORT: String(port),
      HEARTBEAT_PORT: String(heartbeatPort),
      LASTCALL_LOG_LEVEL: 'warn',
      LASTCALL_CRASH_LOG: path.join(cwd, 'crash.log'),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('Try, in another terminal') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stdout).toContain(`2 workers on http://127.0.0.1:${String(port)}`);
    expect(stdout).toContain('reload --name lastcall-demo');

    const greetings = new Set<string>();
    for (let attempt = 0; attempt < 100 && greetings.size < 2; attempt += 1) {
      const answer = await get(port, '/');
      if ('body' in answer) greetings.add(answer.body.replace(/ \(pid \d+\)/, ''));
    }
    expect([...greetings].sort()).toEqual(['hello from worker 0\n', 'hello from worker 1\n']);

    const load = startLoad(port, { keepAlive: 4, fresh: 1, path: '/' });
    const crash = await get(port, '/crash');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const tally = await load.stop();
    expect(crash).toMatchObject({ status: 500 });
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(tally.ok).toBeGreaterThan(50);

    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 15_000).unref()),
    ]);
    expect(code).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
});
