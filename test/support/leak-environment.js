// A jest test environment (node) that finds what a test file leaves running: the process's ref'd resources
// (sockets, servers, child processes, timers; process.getActiveResourcesInfo()) are counted before the file and again
// after its last afterAll. Anything of a kind more numerous at the end than at the start, still there after a grace
// period, is an open handle of this file: it fails the file (the error names the kinds), so `npm test` needs no
// --forceExit and a leak is found where it is made. LEAK_CHECK=warn only prints; LEAK_CHECK=off skips the check.
const { TestEnvironment } = require('jest-environment-node');

const GRACE_MS = Number(process.env.LEAK_GRACE_MS ?? 5000);
// timers alone get longer: werift's DTLS retransmission loop of a peer closed mid-handshake cannot be cancelled and
// runs out after ~33 s (0.5 + 1 + … + 5.5 s); it ends by itself, so it is waited for, not reported
const TIMERS_GRACE_MS = Number(process.env.LEAK_TIMERS_GRACE_MS ?? 35000);
// what is always there, whatever the file did: the worker's own pipes, stdio
const IGNORED = new Set(['TTYWrap', 'PipeWrap', 'FSReqPromise', 'FSReqCallback', 'Immediate']);

const counts = () => {
  const c = new Map();
  for (const kind of process.getActiveResourcesInfo()) if (!IGNORED.has(kind)) c.set(kind, (c.get(kind) ?? 0) + 1);
  return c;
};

const extra = (before, after) => {
  const out = [];
  for (const [kind, n] of after) if (n > (before.get(kind) ?? 0)) out.push(`${kind} x${n - (before.get(kind) ?? 0)}`);
  return out;
};

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
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
    const onlyTimers = (l) => l.every((k) => k.startsWith('Timeout '));
    let left = extra(this.before, counts());
    while (left.length && Date.now() - started < (onlyTimers(left) ? TIMERS_GRACE_MS : GRACE_MS)) {
      await new Promise((r) => setTimeout(r, 100).unref());
      left = extra(this.before, counts());
    }
    if (!left.length) return;
    const message = `open handles left by ${this.testPath} ${Date.now() - started} ms after its last test: ${left.join(', ')} (close them in afterAll; they would keep the test run from exiting)`;
    if (mode === 'warn') process.stderr.write(`\n[leak-check] ${message}\n`);
    else throw new Error(message);
  }
}

module.exports = LeakCheckingEnvironment;
