import { MAX_CAUSE_DEPTH, serializeError } from '../src';
import { makeError } from './support';

describe('serializeError', () => {
  it('keeps name, message, code, stack, extra properties and the cause chain', () => {
    const error = makeError();
    expect(serializeError(error)).toEqual({
      name: 'Error',
      message: 'cannot write report',
      reportId: 'r-1',
      stack: error.stack,
      cause: {
        name: 'Error',
        message: 'disk full',
        code: 'ENOSPC',
        stack: (error.cause as Error).stack,
      },
    });
  });

  it('survives JSON.stringify with every field, unlike an Error', () => {
    const parsed = JSON.parse(JSON.stringify(serializeError(makeError()))) as Record<
      string,
      unknown
    >;
    expect(parsed).toMatchObject({ message: 'cannot write report', cause: { code: 'ENOSPC' } });
  });

  it('cuts a cause cycle instead of recursing forever', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    first.cause = second;
    expect(serializeError(first)).toMatchObject({
      message: 'first',
      cause: { message: 'second', cause: '[Circular]' },
    });
  });

  it(`stops after ${String(MAX_CAUSE_DEPTH)} causes`, () => {
    let error = new Error('level 0');
    for (let level = 1; level <= 20; level += 1) {
      error = new Error(`level ${String(level)}`, { cause: error });
    }
    let node = serializeError(error) as { cause?: unknown };
    let depth = 0;
    while (typeof node.cause === 'object') {
      node = node.cause as { cause?: unknown };
      depth += 1;
    }
    expect(depth).toBe(MAX_CAUSE_DEPTH);
    expect(node.cause).toBe('[cause chain truncated]');
  });

  it('lists the members of an AggregateError', () => {
    const aggregate = new AggregateError([new Error('a'), 'not an error'], 'both failed');
    expect(serializeError(aggregate)).toMatchObject({
      name: 'AggregateError',
      message: 'both failed',
      errors: [{ name: 'Error', message: 'a' }, 'not an error'],
    });
  });

  it('returns non-Error values as they are and leaves the Error unchanged', () => {
    expect(serializeError('text')).toBe('text');
    const error = makeError();
    const keys = Reflect.ownKeys(error);
    serializeError(error);
    expect(Reflect.ownKeys(error)).toEqual(keys);
  });

  it('never throws for a getter that throws, showing what it threw instead', () => {
    const error = new Error('boom');
    Object.defineProperty(error, 'code', {
      get() {
        throw new Error('hostile');
      },
    });
    Object.defineProperty(error, 'detail', {
      enumerable: true,
      get() {
        throw new Error('worse');
      },
    });
    expect(serializeError(error)).toMatchObject({
      message: 'boom',
      code: '[getter threw: hostile]',
      detail: '[getter threw: worse]',
    });
  });

  it('maps non-Error values at the top, in the cause chain and among AggregateError members', () => {
    const mapNonError = (value: unknown): unknown => ({ nonError: typeof value });
    const error = new AggregateError([new Error('member'), 7], 'many', { cause: 'a string' });
    expect(serializeError(error, { mapNonError })).toMatchObject({
      message: 'many',
      cause: { nonError: 'string' },
      errors: [{ message: 'member' }, { nonError: 'number' }],
    });
    expect(serializeError('plain', { mapNonError })).toEqual({ nonError: 'string' });
    expect(serializeError('plain')).toBe('plain');
  });
});
