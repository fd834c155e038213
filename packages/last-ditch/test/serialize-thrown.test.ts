import { MAX_CAUSE_DEPTH, serializeThrown } from '../src/serialize-thrown';

describe('serializeThrown', () => {
  it('keeps name, message, code, stack and extra properties', () => {
    const error = Object.assign(new TypeError('bad'), { code: 'E_BAD', status: 500 });
    expect(serializeThrown(error)).toMatchObject({
      name: 'TypeError',
      message: 'bad',
      code: 'E_BAD',
      status: 500,
      stack: expect.stringContaining('TypeError: bad') as unknown,
    });
  });

  it('follows the cause chain up to the depth limit and cuts cycles', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const serialized = serializeThrown(b);
    expect(serialized.cause).toMatchObject({ message: 'a', cause: '[Circular]' });
    let chain = new Error('0');
    for (let index = 1; index <= MAX_CAUSE_DEPTH + 3; index += 1) {
      chain = new Error(String(index), { cause: chain });
    }
    expect(JSON.stringify(serializeThrown(chain))).toContain('[cause chain truncated]');
  });

  it('lists AggregateError members', () => {
    const serialized = serializeThrown(new AggregateError([new Error('x'), 'y'], 'many'));
    expect(serialized.errors).toEqual([
      expect.objectContaining({ name: 'Error', message: 'x' }),
      { name: 'NonError', message: 'y', thrownType: 'string', value: 'y' },
    ]);
  });

  it('shows non-Error throws with their type', () => {
    expect(serializeThrown(null)).toEqual({
      name: 'NonError',
      message: 'null',
      thrownType: 'null',
      value: null,
    });
    expect(serializeThrown({ reason: 'nope' })).toEqual({
      name: 'NonError',
      message: '{"reason":"nope"}',
      thrownType: 'object',
      value: { reason: 'nope' },
    });
    expect(serializeThrown(42).thrownType).toBe('number');
  });

  it('survives a getter that throws', () => {
    const error = new Error('boom');
    Object.defineProperty(error, 'code', {
      get() {
        throw new Error('hostile');
      },
    });
    expect(serializeThrown(error).code).toBe('[getter threw: hostile]');
  });
});
