/**
 * The master with an app that uses @lastcall/express (packages/express/test/fixtures/app.js):
 * the worker runtime adopts the app's own Graceful, so its hooks and the per-request crash
 * capture work under the master. A crash costs exactly the crashing request.
 */
import { get, killApps, sleep, startLoad, startMaster, waitForCount } from './support';

afterEach(killApps);

const EXPRESS_APP = '../../../express/test/fixtures/app.js';

describe.each(['express', 'express5'])(
  'the master running an %s app of @lastcall/express',
  (expressModule) => {
    it('loses exactly the crashing request, which gets its 500; the replacement serves', async () => {
      const app = startMaster(
        { workers: 2 },
        { app: EXPRESS_APP, env: { EXPRESS_MODULE: expressModule } },
      );
      await app.waitFor('started', 20_000);
      const load = startLoad(app.port(), { path: '/slow?ms=2' });
      await sleep(300);
      const crash = await get(app.port(), '/crash/timer');
      await waitForCount(app, 'exit', 1, 15_000);
      await sleep(300);
      const tally = await load.stop();
      expect(crash).toMatchObject({ status: 500 });
      expect(tally.errors).toEqual([]);
      expect(tally.statuses).toEqual([]);
      // The master's exit events (app.js prints its own `exit` line too, without a slot).
      const exits = app.eventsNamed('exit').filter((event) => event['slot'] !== undefined);
      expect(exits).toEqual([expect.objectContaining({ code: 1, reason: 'crash' })]);
      expect(app.eventsNamed('respawn')).toHaveLength(1);
    });

    it('restarts with no failed request, running the app’s own shutdown hooks', async () => {
      const app = startMaster(
        { workers: 2 },
        { app: EXPRESS_APP, env: { EXPRESS_MODULE: expressModule } },
      );
      await app.waitFor('started', 20_000);
      const load = startLoad(app.port(), { path: '/slow?ms=2' });
      await sleep(300);
      app.child.kill('SIGUSR2');
      await waitForCount(app, 'restartDone', 1, 30_000);
      await sleep(300);
      const tally = await load.stop();
      expect(tally.errors).toEqual([]);
      expect(tally.statuses).toEqual([]);
      // app.js prints { event: 'exit', code } from its Graceful's exit event: its coordinator ran.
      expect(
        app.events.filter((event) => event.event === 'exit' && event['slot'] === undefined),
      ).toEqual([expect.objectContaining({ code: 0 }), expect.objectContaining({ code: 0 })]);
    });
  },
);
