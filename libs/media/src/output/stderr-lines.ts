/** Longest partial line held back waiting for its end (a process that never writes a newline still gets logged). */
const MAX_PARTIAL = 8192;

/**
 * Re-assembles a child's output into whole lines (`\n` or `\r`), so that whatever is applied to them (redaction of a
 * stream key) sees a secret whole even when it arrived split across two reads.
 */
export class LineBuffer {
  private partial = '';

  /** The complete lines this chunk finished (with their line ends), '' when none. */
  push(chunk: string): string {
    const text = this.partial + chunk;
    const end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (end < 0) {
      if (text.length <= MAX_PARTIAL) {
        this.partial = text;
        return '';
      }
      this.partial = '';
      return text;
    }
    this.partial = text.slice(end + 1);
    return text.slice(0, end + 1);
  }

  /** What is left (a last line without a line end). */
  flush(): string {
    const rest = this.partial;
    this.partial = '';
    return rest;
  }
}
