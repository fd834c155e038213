'use strict';
// Preloaded with `--require` by the `empty-preload` variant: the cost of a preload itself.
