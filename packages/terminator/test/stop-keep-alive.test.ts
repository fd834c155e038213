/**
 * stopKeepAlive(): for the time a load balancer needs to stop routing here, every response says
 * `Connection: close` while the server keeps accepting, so keep-alive clients move on before the
 * drain starts.
 */
import { request } from 'undici';
import { createTerminator } from '../src';
import { deferred, protocols, startSlowFastServer, useCleanups, withTimeout } from './support';
import type { Protocol } from './support';

const defer = useCleanups();

describe.each(protocols)('stopKeepAlive() over %s', (protocol: Protocol) => {
  it('closes after the response in flight and every later one, while the server still accepts', async () => {
    const release = deferred();
    const { origin, agent, server } = await startSlowFastServer(protocol, defer, release.promise);
    const terminator = createTerminator(server);
    const before = await request(`${origin}/fast`, { dispatcher: agent });
    expect(before.headers['connection']).toBe('keep-alive');
    await before.body.text();

    const inFlight = request(`${origin}/slow`, { dispatcher: agent });
    await new Promise((resolve) => setTimeout(resolve, 50));
    terminator.stopKeepAlive();
    terminator.stopKeepAlive();
    release.resolve();
    const slow = await withTimeout(inFlight, 4000, 'the request in flight');
    expect(slow.headers['connection']).toBe('close');
    expect(await slow.body.text()).toBe('slow');

    const after = await withTimeout(
      request(`${origin}/fast`, { dispatcher: agent }),
      4000,
      'a new request',
    );
    expect(after.headers['connection']).toBe('close');
    expect(await after.body.text()).toBe('fast');
    expect(server.listening).toBe(true);
    expect(terminator.state).toBe('serving');
  });
});
