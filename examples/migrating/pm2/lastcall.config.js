'use strict';
/**
 * pm2's ecosystem.config.js for app.js, as lastcall.config.js (docs/migrating/pm2.md maps
 * every field). `lastcall start app.js` reads it from the folder it runs in.
 *
 * was:
 *   module.exports = { apps: [{ name: 'api', script: 'app.js', instances: 2,
 *     exec_mode: 'cluster', wait_ready: true, listen_timeout: 10000, kill_timeout: 5000,
 *     max_memory_restart: '300M', exp_backoff_restart_delay: 100,
 *     env: { NODE_ENV: 'production' } }] };
 */
module.exports = {
  name: 'api',
  workers: 2,
  readyOn: 'message',
  readyTimeout: 10_000,
  drainTimeout: 5000,
  recycle: { maxRssMB: 300 },
  backoff: { initial: 100, max: 15_000, factor: 1.5, jitter: 0.2 },
  env: { NODE_ENV: 'production' },
};
