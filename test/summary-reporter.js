// Prints one plain closing line ("N passed, N failed, N skipped") that CI tooling can read. `npm test` runs without
// --forceExit: if something still keeps the process alive EXIT_WAIT_MS (40 s) after the run, it says what and exits with 1
// (a leak the per-file check in test/support/leak-environment.js did not catch fails the run instead of hanging it).
const EXIT_WAIT_MS = Number(process.env.EXIT_WAIT_MS ?? 40000); // past werift's ~33 s DTLS retransmission loop

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: p, numFailedTests: f, numPendingTests: s, numRuntimeErrorTestSuites: e } = results;
    console.log(`\njest: ${p} passed, ${f + e} failed, ${s} skipped`);
    setTimeout(() => {
      const counts = new Map();
      for (const k of process.getActiveResourcesInfo()) if (k !== 'TTYWrap') counts.set(k, (counts.get(k) ?? 0) + 1);
      const left = [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
      console.error(`\njest: the test run did not exit ${EXIT_WAIT_MS} ms after its end; still open: ${left}`);
      process.exit(1);
    }, EXIT_WAIT_MS).unref();
  }
}
module.exports = SummaryReporter;
