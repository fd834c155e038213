'use strict';
// The worker of throughput.js: a bare http server answering `hello` on PORT (127.0.0.1).
require('node:http')
  .createServer((request, response) => {
    response.end('hello');
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
