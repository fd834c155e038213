/**
 * stopKeepAlive(): for the time a load balancer needs to stop routing here, every response says
 * `Connection: close` while the server keeps accepting, so keep-alive clients move on before the
 * drain starts.
 */
import { Agent, request } from 'undici';
import { createTerminator } from '../src';
import { createServer, deferred, listen, protocols, useCleanups, withTimeout } from './support';
import type { Protocol } from './support';

const defer = useCleanups();

describe.each(protocols)('stopKeepAlive() over %s', (protocol: Protocol) => {
  it('closes after the response in flight and every later one, while the server still accepts', async () => {
    const release = deferred();
    const server = createServer(protocol, (incoming, response) => {
      if (incoming.url === '/slow') void release.promise.then(() => response.end('slow'));
      else response.end('fast');
    });
    const terminator = createTerminator(server);
    const port = await listen(server);
    defer(() => {
      server.closeAllConnections();
      server.close();
    });
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    defer(() => agent.close());
    const origin = `${protocol}://127.0.0.1:${String(port)}`;
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
