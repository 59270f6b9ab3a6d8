// A jest test environment (node) that finds what a test file leaves running: the process's ref'd resources
// (sockets, servers, child processes, worker ports, timers; process.getActiveResourcesInfo()) are counted before the
// file and again after its last afterAll. Sockets, servers, processes and ports more numerous at the end than at the
// start, still there after a grace period, are open handles of this file: they fail it (the error names the kinds), so
// `npm test` needs no --forceExit and a leak is found where it is made. Timers are only reported: most end by
// themselves (werift's DTLS retransmission loop of a peer closed mid-handshake runs ~33 s and cannot be cancelled), and
// one that never ends is caught by the end-of-run check in test/summary-reporter.js. A file whose tests failed only
// reports (its failures are the news). LEAK_CHECK=warn only prints; LEAK_CHECK=off skips the check.
const { TestEnvironment } = require('jest-environment-node');

const GRACE_MS = Number(process.env.LEAK_GRACE_MS ?? 5000);
// what is always there, whatever the file did: the worker's own pipes, stdio
const IGNORED = new Set(['TTYWrap', 'PipeWrap', 'FSReqPromise', 'FSReqCallback', 'Immediate']);
const isTimer = (kind) => kind === 'Timeout';

const counts = () => {
  const c = new Map();
  for (const kind of process.getActiveResourcesInfo()) if (!IGNORED.has(kind)) c.set(kind, (c.get(kind) ?? 0) + 1);
  return c;
};

/** Kinds more numerous now than before, as [kind, how many more]. */
const extra = (before, after) => [...after].map(([kind, n]) => [kind, n - (before.get(kind) ?? 0)]).filter(([, d]) => d > 0);
const listKinds = (list) => list.map(([kind, d]) => `${kind} x${d}`).join(', ');

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async handleTestEvent(event) {
    if ((event.name === 'test_done' && event.test.errors.length) || event.name === 'hook_failure') this.failed = true;
  }

  async setup() {
    await super.setup();
    this.before = counts();
  }

  async teardown() {
    await super.teardown();
    const mode = process.env.LEAK_CHECK ?? 'fail';
    if (mode === 'off' || !this.before) return;
    const started = Date.now();
    let left = extra(this.before, counts());
    while (left.some(([k]) => !isTimer(k)) && Date.now() - started < GRACE_MS) {
      await new Promise((r) => setTimeout(r, 100).unref());
      left = extra(this.before, counts());
    }
    if (!left.length) return;
    const handles = left.filter(([k]) => !isTimer(k));
    const timers = left.filter(([k]) => isTimer(k));
    if (timers.length && !handles.length) {
      process.stderr.write(`\n[leak-check] ${this.testPath}: ${listKinds(timers)} still pending after its last test (timers: reported, not failed)\n`);
      return;
    }
    const message = `open handles left by ${this.testPath} ${Date.now() - started} ms after its last test: ${listKinds(left)} (close them in afterAll; they would keep the test run from exiting)`;
    if (mode === 'warn' || this.failed) process.stderr.write(`\n[leak-check] ${message}\n`);
    else throw new Error(message);
  }
}

module.exports = LeakCheckingEnvironment;
