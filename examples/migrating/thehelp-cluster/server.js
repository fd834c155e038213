'use strict';
/**
 * The worker's Express app from thehelp-cluster's README, unchanged but for the require.
 */
const express = require('express');

const cluster = require('lastcall'); // was: require('thehelp-cluster')

const app = express();
const gracefulExpress = new cluster.GracefulExpress();

// ...very little should go before gracefulExpress - probably just logging...

app.use(gracefulExpress.middleware);

app.get('/', (req, res) => {
  res.send('success!');
});

const port = Number(process.env.PORT ?? 3000);

module.exports = {
  // the app, for supertest-based in-process tests
  app,

  start() {
    gracefulExpress.listen(app, port, '127.0.0.1', () => {
      console.log(`Worker listening on port ${String(port)}`);
    });
  },
};
