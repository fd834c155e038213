'use strict';

// Folds the raw runs into per scenario × library summaries (median, min, max, quartiles).

const { summarize, summarizeCounts } = require('./stats');

const COUNT_OBJECTS = ['closeCodes', 'errorCodes'];

function summarizeRuns(scenarios, libraries, runs) {
  const summary = {};
  for (const scenario of scenarios) {
    summary[scenario.id] = {};
    for (const lib of libraries) {
      const mine = runs.filter((run) => run.scenario === scenario.id && run.lib === lib);
      if (mine.length === 0) continue;
      const na = mine.find((run) => run.na);
      if (na) {
        summary[scenario.id][lib] = { na: na.na };
        continue;
      }
      const measured = mine.filter((run) => run.metrics);
      const errors = mine.filter((run) => run.error).map((run) => run.error);
      const keys = new Set(measured.flatMap((run) => Object.keys(run.metrics)));
      const metrics = {};
      const counts = {};
      for (const key of keys) {
        const values = measured.map((run) => run.metrics[key]);
        if (COUNT_OBJECTS.includes(key)) counts[key] = summarizeCounts(values);
        else if (values.every((value) => value === null || typeof value !== 'object')) {
          metrics[key] = summarize(values.map((value) => (value === undefined ? null : value)));
        }
      }
      summary[scenario.id][lib] = { runs: mine.length, errors, metrics, counts };
    }
  }
  return summary;
}

module.exports = { summarizeRuns };
