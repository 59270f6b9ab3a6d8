import { LineBuffer } from './stderr-lines';

describe('LineBuffer', () => {
  it('gives back whole lines only, joining a line split across chunks', () => {
    const b = new LineBuffer();
    expect(b.push('first li')).toBe('');
    expect(b.push('ne\nsecond')).toBe('first line\n');
    expect(b.push(' line\nthird\n')).toBe('second line\nthird\n');
    expect(b.flush()).toBe('');
  });
  it('treats \\r as a line end (progress lines) and keeps a last line without one for flush', () => {
    const b = new LineBuffer();
    expect(b.push('frame=1\rframe=2\rtail')).toBe('frame=1\rframe=2\r');
    expect(b.flush()).toBe('tail');
  });
  it('does not hold back more than 8 KiB waiting for a newline', () => {
    const b = new LineBuffer();
    expect(b.push('x'.repeat(5000))).toBe('');
    expect(b.push('y'.repeat(5000))).toHaveLength(10_000);
    expect(b.flush()).toBe('');
  });
});
