// Output of the batch commands (augment, training-pairs): lines to a file or stdout, buffered.
import { closeSync, openSync, writeSync } from 'node:fs';

/** Buffered line writer to a file or stdout ('-'): bounded memory whatever the corpus size. */
export class LineWriter {
  private buf = '';
  private readonly fd: number;
  constructor(private readonly path: string) {
    this.fd = path === '-' ? 1 : openSync(path, 'w');
  }
  /** Appends text, flushing every 64 KiB. */
  write(text: string): void {
    this.buf += text;
    if (this.buf.length > 65536) this.flush();
  }
  /** Writes out what is buffered. */
  flush(): void {
    if (this.buf) writeSync(this.fd, this.buf);
    this.buf = '';
  }
  /** Flushes and closes (stdout stays open). */
  close(): void {
    this.flush();
    if (this.path !== '-') closeSync(this.fd);
  }
}
