'use strict';
/**
 * http-terminator's README example, moved to @lastcall/terminator
 * (docs/migrating/http-terminator-and-stoppable.md), with the SIGTERM handler a real app has.
 * Run it with `node examples/migrating/http-terminator-stoppable/http-terminator.js`; PORT
 * picks the port (default 3000). GET /slow?ms=2000 answers late; SIGTERM lets it finish.
 */
const http = require('node:http');
const { createTerminator } = require('@lastcall/terminator'); // was: require('http-terminator')

const server = http.createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
  setTimeout(() => res.end(`done after ${String(ms)} ms\n`), Math.min(ms, 10_000));
});

// was: createHttpTerminator({ server, gracefulTerminationTimeout: 5000 })
const httpTerminator = createTerminator(server, { timeout: 5000 });

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');

process.once('SIGTERM', async () => {
  await httpTerminator.terminate();
});
