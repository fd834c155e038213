'use strict';
// A naive cluster: node:cluster forks WORKERS copies of hello-server.js and nothing else.
// Prints `ready` when all listen.
const cluster = require('node:cluster');
const path = require('node:path');

const workers = Number(process.env.WORKERS ?? 2);
cluster.setupPrimary({ exec: path.join(__dirname, 'hello-server.js') });
let listening = 0;
cluster.on('listening', () => {
  listening += 1;
  if (listening === workers) process.stdout.write('ready\n');
});
for (let index = 0; index < workers; index += 1) cluster.fork();
process.on('SIGTERM', () => {
  for (const worker of Object.values(cluster.workers)) worker.kill();
  process.exit(0);
});
