import { MasterError } from '../src/errors';
import { readOptions } from '../src/primary/options';

describe('the idleTimeout option', () => {
  it('is off unless given, and off when false', () => {
    expect(readOptions(undefined).idleTimeout).toBeUndefined();
    expect(readOptions({ idleTimeout: false }).idleTimeout).toBeUndefined();
    expect(readOptions({ idleTimeout: 30_000 }).idleTimeout).toBe(30_000);
  });

  it.each([0, -1, Number.NaN, Infinity, '30000', true, null])(
    'refuses %p with LASTCALL_ERR_MASTER_INVALID_TIMEOUT, naming the option',
    (idleTimeout) => {
      const read = (): unknown => readOptions({ idleTimeout } as never);
      expect(read).toThrow(MasterError);
      expect(read).toThrow(
        expect.objectContaining({ code: 'LASTCALL_ERR_MASTER_INVALID_TIMEOUT' }) as Error,
      );
      expect(read).toThrow(/option "idleTimeout" must be a finite number of ms > 0, or false/);
    },
  );
});
