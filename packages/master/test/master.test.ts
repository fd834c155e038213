import { Master } from '../src/primary/master';
import { isMasterWorker, ready, requestMaster, workerSlot } from '../src/worker/api';

describe('Master, before start()', () => {
  it('validates its options in the constructor', () => {
    expect(() => new Master({ workers: -1 })).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_WORKERS' }) as Error,
    );
  });

  it('refuses a restart before start()', async () => {
    await expect(new Master({ workers: 1 }).restart()).rejects.toMatchObject({
      code: 'LASTCALL_ERR_MASTER_NOT_STARTED',
    });
  });

  it('registers one handler per type', () => {
    const master = new Master({ workers: 1 });
    expect(master.handle('warm', () => 1)).toBe(master);
    expect(() => master.handle('warm', () => 2)).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_HANDLER' }) as Error,
    );
    expect(() => master.handle('', () => 2)).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_HANDLER' }) as Error,
    );
    expect(() => master.handle('x', 'not a function' as never)).toThrow(
      expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_HANDLER' }) as Error,
    );
  });

  it('reports starting in health() and lists no worker', () => {
    const master = new Master({ workers: 1 });
    expect(master.health()).toMatchObject({ statusCode: 503, body: { status: 'starting' } });
    expect(master.status()).toEqual([]);
    expect(master.heartbeatAddress()).toBeUndefined();
  });
});

describe('the worker API outside a lastcall worker', () => {
  it('knows it is not one, and does nothing on ready()', () => {
    expect(isMasterWorker()).toBe(false);
    expect(workerSlot()).toBeUndefined();
    expect(() => {
      ready();
    }).not.toThrow();
  });

  it('rejects requestMaster with NO_MASTER, and a bad timeout with INVALID_TIMEOUT', async () => {
    await expect(requestMaster('warm')).rejects.toMatchObject({
      code: 'LASTCALL_ERR_MASTER_NO_MASTER',
    });
    await expect(requestMaster('warm', undefined, { timeout: -5 })).rejects.toMatchObject({
      code: 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT',
    });
  });
});
