import { findAppName } from '../src/app-info';
import { resolveAppName } from '../src/index';
import { resolveOptions } from '../src/options';

const ENV_NAMES = ['LASTCALL_APP_NAME', 'THEHELP_APP_NAME'] as const;
const savedEnv = new Map<string, string | undefined>();

beforeEach(() => {
  for (const name of ENV_NAMES) {
    savedEnv.set(name, process.env[name]);
    Reflect.deleteProperty(process.env, name);
  }
});

afterEach(() => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
});

describe('resolveAppName()', () => {
  it('returns the given name before LASTCALL_APP_NAME and THEHELP_APP_NAME', () => {
    process.env['LASTCALL_APP_NAME'] = 'from-lastcall-env';
    process.env['THEHELP_APP_NAME'] = 'from-thehelp-env';
    expect(resolveAppName('shop')).toBe('shop');
  });

  it('takes LASTCALL_APP_NAME, then THEHELP_APP_NAME, when no name is given', () => {
    process.env['LASTCALL_APP_NAME'] = 'from-lastcall-env';
    process.env['THEHELP_APP_NAME'] = 'from-thehelp-env';
    expect(resolveAppName()).toBe('from-lastcall-env');
    Reflect.deleteProperty(process.env, 'LASTCALL_APP_NAME');
    expect(resolveAppName()).toBe('from-thehelp-env');
  });

  it('falls back on the nearest package.json name (findAppName) without a name or env', () => {
    const found = findAppName();
    expect(found).not.toBe('');
    expect(resolveAppName()).toBe(found);
  });

  it.each(['', '   ', 'undefined'])(
    'skips %p wherever it comes from and never returns it',
    (unusable) => {
      process.env['LASTCALL_APP_NAME'] = unusable;
      process.env['THEHELP_APP_NAME'] = 'legacy';
      expect(resolveAppName(unusable)).toBe('legacy');
      process.env['THEHELP_APP_NAME'] = unusable;
      expect(resolveAppName(unusable)).toBe(findAppName());
      expect(resolveAppName(unusable)).not.toBe(unusable);
    },
  );

  it('skips a given value that is not a string, as a JavaScript caller may pass', () => {
    process.env['LASTCALL_APP_NAME'] = 'from-env';
    expect(resolveAppName(42 as never)).toBe('from-env');
  });
});

describe('new LastDitch() app name from the environment', () => {
  it('reads LASTCALL_APP_NAME, then THEHELP_APP_NAME, and the option beats both', () => {
    process.env['THEHELP_APP_NAME'] = 'legacy';
    expect(resolveOptions({}).appName).toBe('legacy');
    process.env['LASTCALL_APP_NAME'] = 'shop';
    expect(resolveOptions({}).appName).toBe('shop');
    expect(resolveOptions({ appName: 'given' }).appName).toBe('given');
  });

  it("leaves the name to findAppName() at report time when the env holds '' or 'undefined'", () => {
    process.env['LASTCALL_APP_NAME'] = 'undefined';
    process.env['THEHELP_APP_NAME'] = '';
    expect(resolveOptions({}).appName).toBeUndefined();
  });
});
