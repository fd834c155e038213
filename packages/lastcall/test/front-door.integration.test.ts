/**
 * `require('lastcall')` as thehelp-cluster's front door, in real processes: the master and its
 * workers run the same cluster.js; restarts from a signal and from a worker's handle; launch
 * counters on a real UDP socket; per-process log files; SIGTERM exits 0.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { get, startLoad, waitGone } from '../../master/test/support';
import { killApps, startApp, waitForCount } from '../../graceful/test/run-app';
import { freePort, makeTempDir } from './cli-support';

afterEach(killApps);

const FRONT_DOOR = path.join(__dirname, 'fixtures', 'front-door.js');

it('runs master and workers from one cluster.js, restarts on a signal and from a worker, counts launches', async () => {
  const socket = dgram.createSocket('udp4');
  const packets: string[] = [];
  socket.on('message', (message) => packets.push(message.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    const port = await freePort();
    const logsDir = makeTempDir();
    const app = startApp(
      {},
      {
        fixture: FRONT_DOOR,
        env: {
          PORT: String(port),
          LOGS_DIR: logsDir,
          LASTCALL_STATSD: `127.0.0.1:${String(socket.address().port)}`,
          THEHELP_APP_NAME: 'front-door',
          LASTCALL_LOG_LEVEL: 'warn',
        },
      },
    );
    const started = await app.waitFor('started', 20_000);
    const firstPids = (started['workers'] as number[]).map(String).sort();
    expect(firstPids).toHaveLength(2);

    const load = startLoad(port, { keepAlive: 4, fresh: 1 });
    let tally: Awaited<ReturnType<typeof load.stop>>;
    try {
      app.child.kill('SIGHUP');
      await app.waitFor('restartDone', 20_000);
      // A worker's handle.restart() resolves once the restart is under way (it is replaced too).
      expect(await get(port, '/restart')).toEqual({ status: 200, body: '{}' });
      await waitForCount(app, 'restartDone', 2, 20_000);
    } finally {
      tally = await load.stop();
    }
    expect(tally.errors).toEqual([]);
    expect(tally.statuses).toEqual([]);
    expect(app.events.filter((event) => event.event === 'restartDone')).toHaveLength(2);

    // One master launch and six worker launches: 2 at start, 2 per restart.
    const deadline = Date.now() + 5000;
    while (packets.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(packets.filter((p) => p === 'front-door.launches.master:1|c')).toHaveLength(1);
    expect(packets.filter((p) => p === 'front-door.launches.worker:1|c')).toHaveLength(6);
    expect(packets).toHaveLength(7);

    // setupLogs(): one file per process, the workers' lines in their own files.
    const files = fs.readdirSync(logsDir);
    expect(files.some((file) => /master/.test(file))).toBe(true);
    expect(files.filter((file) => /worker/.test(file)).length).toBeGreaterThanOrEqual(2);

    app.child.kill('SIGTERM');
    expect(await app.exited(15_000)).toEqual({ code: 0, signal: null });
    for (const pid of firstPids) expect(await waitGone(Number(pid), 4000)).toBe(true);
  } finally {
    socket.close();
  }
});
