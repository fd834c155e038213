'use strict';
/**
 * The quick-start demo: an http server with idle keep-alive clients, slow requests in flight
 * and a streaming response, terminated mid-traffic. Every request is answered; the report says
 * what the terminator did. Run it with `npm start`.
 */
const http = require('node:http');
const { createTerminator } = require('@lastcall/terminator');

const server = http.createServer((request, response) => {
  if (request.url === '/stream') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    let chunk = 0;
    const timer = setInterval(() => {
      chunk += 1;
      response.write(`chunk ${chunk}\n`);
      if (chunk === 5) {
        clearInterval(timer);
        response.end();
      }
    }, 100);
    return;
  }
  const delay = request.url === '/slow' ? 500 : 0;
  setTimeout(() => response.end(`answered ${request.url}\n`), delay);
});
const terminator = createTerminator(server, { timeout: 5000 });

function get(agent, path) {
  return new Promise((resolve) => {
    const request = http.get({ agent, host: '127.0.0.1', port: server.address().port, path });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (data) => (body += data));
      response.on('end', () =>
        resolve({
          path,
          status: response.statusCode,
          connection: response.headers.connection,
          body,
        }),
      );
    });
    request.on('error', (error) => resolve({ path, error: error.code ?? error.message }));
  });
}

server.listen(0, '127.0.0.1', async () => {
  const agent = new http.Agent({ keepAlive: true });
  await Promise.all([1, 2, 3, 4, 5].map((n) => get(agent, `/warm-${n}`)));
  console.log(`server on 127.0.0.1:${server.address().port} with 5 keep-alive sockets`);
  const inFlight = [get(agent, '/slow'), get(agent, '/slow'), get(agent, '/stream')];
  await new Promise((resolve) => setTimeout(resolve, 100));
  console.log('before terminate():', terminator.stats());
  const report = await terminator.terminate();
  for (const result of await Promise.all(inFlight)) {
    console.log(
      result.error === undefined
        ? `${result.path}: ${result.status}, Connection: ${result.connection}, ${result.body.length} bytes`
        : `${result.path}: FAILED ${result.error}`,
    );
  }
  console.log('report:', report);
  agent.destroy();
});
