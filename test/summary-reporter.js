// Prints one plain closing line ("N passed, N failed, N skipped") that CI tooling can read.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: p, numFailedTests: f, numPendingTests: s, numRuntimeErrorTestSuites: e } = results;
    console.log(`\njest: ${p} passed, ${f + e} failed, ${s} skipped`);
  }
}
module.exports = SummaryReporter;
