'use strict';
// app.js, then, once it listens and has idled, the modules this worker loaded, written as JSON to
// $WORKER_START_PROBE: the files in require.cache and Node's own process.moduleLoadList. Used
// by one extra, untimed run of each variant.
const fs = require('node:fs');
const server = require('./app');

server.once('listening', () => {
  setTimeout(() => {
    fs.writeFileSync(
      process.env.WORKER_START_PROBE,
      JSON.stringify({
        files: Object.keys(require.cache),
        builtins: process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')),
        moduleLoadList: process.moduleLoadList.length,
      }),
    );
  }, 200);
});
