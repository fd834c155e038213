/**
 * The terminator loads `node:http2` only when the app gives it an http2 server, and `node:tls`
 * and `node:https` (with crypto) only for a TLS server: the app that created one has loaded them
 * already, and every other app is spared their start-up. Run in a fresh process per server kind,
 * so that nothing else of the test runner loaded them first.
 */
import { killFixtures, startFixture } from './fixture-process';
import { withTimeout } from './support';

afterEach(() => {
  killFixtures();
});

async function drainIn(kind: 'http' | 'https' | 'http2'): Promise<unknown> {
  const fixture = startFixture('module-loads.js', [kind]);
  const message = await fixture.message('drained', 15_000);
  const exit = await withTimeout(fixture.exited, 5000, 'the child to exit');
  expect({ code: exit.code, stderr: fixture.stderr() }).toEqual({ code: 0, stderr: '' });
  return message;
}

describe('node:http2', () => {
  it.each(['http', 'https'] as const)(
    'is not loaded by requiring the terminator and draining an %s server',
    async (kind) => {
      expect(await drainIn(kind)).toMatchObject({
        event: 'drained',
        graceful: true,
        http2Modules: [],
      });
    },
  );

  it('is loaded, by the app, when the server is an http2 server, which drains gracefully', async () => {
    expect(await drainIn('http2')).toMatchObject({
      event: 'drained',
      graceful: true,
      http2Modules: expect.arrayContaining(['NativeModule http2']) as unknown,
    });
  });
});

describe('node:tls, node:https and node:crypto', () => {
  it('are not loaded by requiring the terminator and draining an http server', async () => {
    expect(await drainIn('http')).toMatchObject({
      event: 'drained',
      graceful: true,
      tlsModules: [],
    });
  });

  it('are loaded, by the app, for an https server, which drains gracefully', async () => {
    expect(await drainIn('https')).toMatchObject({
      event: 'drained',
      graceful: true,
      tlsModules: expect.arrayContaining(['NativeModule tls', 'NativeModule https']) as unknown,
    });
  });
});
