#!/usr/bin/env node
'use strict';
// The `lastcall` command; it lives in dist/cli.js (built from src/cli.ts).
require('../dist/cli.js');
