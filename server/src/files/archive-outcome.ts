/**
 * How a folder archive ended, whichever way it was made (the VM's `tar`, ./archive.ts, or the
 * gateway's own walk over SFTP, ./sftp-archive.ts): the audit row's `complete` and the log's text.
 */

/** What is kept of the complaints for the log (the VM's `tar` stderr or the walk's notes); the rest is counted or dropped. */
export const MAX_STDERR_LOGGED_CHARS = 1024;

export interface ArchiveOutcome {
  readonly path: string;
  readonly bytes: number;
  /** Every entry went in as it was and every byte reached the browser (for `tar`: it exited 0). */
  readonly complete: boolean;
  /** The start of the complaints, for the log. */
  readonly stderr: string;
}

/**
 * The gateway walk's complaints, in GNU tar's words so the log reads the same either way. An
 * entry left out because it could not be read, or a file cut short while read, makes the archive
 * incomplete (GNU tar exits 2 for both); a socket, fifo or device left out is only noted (tar
 * ignores a socket and still exits 0). Counted whole, kept as text up to MAX_STDERR_LOGGED_CHARS.
 */
export class ArchiveNotes {
  #lines = '';
  #failed = 0;
  #ignored = 0;

  /** Left out or damaged: the archive is not the folder. */
  failed(entry: string, problem: string): void {
    this.#failed += 1;
    this.#add(`${entry}: ${problem}`);
  }

  /** Left out by design (a socket, fifo or device). */
  ignored(entry: string, what: string): void {
    this.#ignored += 1;
    this.#add(`${entry}: ${what} ignored`);
  }

  /** Why the archive stopped part way (the response is cut). */
  stopped(reason: string): void {
    this.#add(`archive stopped: ${reason}`);
  }

  get clean(): boolean {
    return this.#failed === 0;
  }

  /** The counts first, so they survive when the lines are cut at the bound. */
  text(): string {
    if (this.#lines === '') return '';
    const counts = `${this.#failed} entries unreadable or changed, ${this.#ignored} special files ignored\n`;
    return `${counts}${this.#lines}`.slice(0, MAX_STDERR_LOGGED_CHARS);
  }

  #add(line: string): void {
    if (this.#lines.length < MAX_STDERR_LOGGED_CHARS) this.#lines += `${line}\n`;
  }
}
