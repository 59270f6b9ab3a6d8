import { describeRejection, logUnhandledRejections } from './process-guards';

describe('logUnhandledRejections', () => {
  it('logs a rejection nobody handled (its message and stack) instead of letting the process die', () => {
    const lines: string[] = [];
    const uninstall = logUnhandledRejections((m) => lines.push(m));
    try {
      const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      // what Node emits for a real unhandled rejection (emitted here so the test runner does not see one of its own)
      const handled = process.emit('unhandledRejection', e, Promise.resolve());
      expect(handled).toBe(true);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/unhandled rejection.*ENOSPC: no space left on device/);
      expect(lines[0]).toMatch(/at /); // the stack, to find where it came from
    } finally {
      uninstall();
    }
    expect(process.listeners('unhandledRejection').some((l) => l.name === 'logUnhandledRejection')).toBe(false);
  });

  it('describes reasons that are not errors', () => {
    expect(describeRejection('just a string')).toBe('just a string');
    expect(describeRejection(undefined)).toBe('undefined');
    expect(describeRejection({ code: 42 })).toBe('{"code":42}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeRejection(cyclic)).toBe('[object Object]');
  });
});
