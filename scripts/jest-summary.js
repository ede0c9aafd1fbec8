// Prints "N passed, N failed, N skipped" from a jest --json report (the closing line CI reads).
// A suite that could not run at all (a compile error, a crash) counts as a failure.
const r = require(require('path').resolve(process.argv[2]));
for (const s of r.testResults) if (s.status === 'failed' && s.message) console.error(s.message.slice(0, 4000));
const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
console.log(`${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests} skipped`);
