// Prints the closing line CI reads, exactly "N passed, N failed", from a jest --json report (skipped
// tests on the line before it). A suite that could not run at all (a compile error, a crash) counts
// as a failure.
const r = require(require('path').resolve(process.argv[2]));
for (const s of r.testResults) if (s.status === 'failed' && s.message) console.error(s.message.slice(0, 4000));
const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
console.log(`${r.numPendingTests} skipped`);
console.log(`${r.numPassedTests} passed, ${failed} failed`);
