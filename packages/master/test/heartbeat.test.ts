import { request } from 'undici';
import { Heartbeat, isLoopback } from '../src/primary/heartbeat';
import { heartbeatSettings, serving } from './unit-support';

const SETTINGS = heartbeatSettings({ version: '9.9.9' });

describe('Heartbeat', () => {
  let heartbeat: Heartbeat | undefined;
  afterEach(async () => {
    await heartbeat?.close();
    heartbeat = undefined;
  });

  it.each([
    ['serving', {}, 200, 'ok'],
    ['with a failed slot but enough ready workers', { failedSlots: 1, ready: 1 }, 200, 'degraded'],
    ['below minReady', { ready: 1, minReady: 2 }, 503, 'unavailable'],
    ['before the start resolved', { isStarted: false }, 503, 'starting'],
    ['shutting down', { isShuttingDown: true }, 503, 'shutting-down'],
  ])('answers GET when %s', async (_when, overrides, statusCode, status) => {
    heartbeat = new Heartbeat(SETTINGS, () => serving(overrides));
    const { port } = await heartbeat.listen();
    const response = await request(`http://127.0.0.1:${String(port)}/ecv`);
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await response.body.json()).toMatchObject({ status, version: '9.9.9' });
  });

  it('answers HEAD with the status and no body', async () => {
    heartbeat = new Heartbeat(SETTINGS, () => serving({ isShuttingDown: true }));
    const { port } = await heartbeat.listen();
    const response = await request(`http://127.0.0.1:${String(port)}/ecv`, { method: 'HEAD' });
    expect(response.statusCode).toBe(503);
    expect(await response.body.text()).toBe('');
  });

  it('rejects listen() with the error of a port in use', async () => {
    heartbeat = new Heartbeat(SETTINGS, () => serving());
    const { port } = await heartbeat.listen();
    const second = new Heartbeat({ ...SETTINGS, port }, () => serving());
    await expect(second.listen()).rejects.toMatchObject({
      code: 'LASTCALL_ERR_MASTER_PORT_IN_USE',
      cause: { code: 'EADDRINUSE' },
    });
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.3.4.5', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.7', false],
    ['::ffff:192.168.1.2', false],
    ['fe80::1', false],
    [undefined, false],
  ])('%s is loopback: %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});
