'use strict';

/**
 * The environment for an npm process that a repo script starts outside this repo's own project
 * (`npm pack <registry package>`, `npm install` in a temp project). Under `npm run`, npm exports
 * its resolved config as `npm_config_*`; the prefix and workspace ones would point the child at
 * this repo, so they are dropped, and the child is kept quiet (no audit, fund or update notice).
 * @param {NodeJS.ProcessEnv} [base]
 * @returns {NodeJS.ProcessEnv}
 */
function npmChildEnv(base = process.env) {
  const env = Object.fromEntries(
    Object.entries(base).filter(
      ([key]) =>
        !/^npm_config_(local_prefix|prefix|global_prefix|workspaces?|include_workspace_root)$/i.test(
          key,
        ),
    ),
  );
  return Object.assign(env, {
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn',
  });
}

module.exports = { npmChildEnv };
