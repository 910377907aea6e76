/**
 * The tab's title: what the page or the VM calls it, and while the access window is closing the
 * time left in front ("1:59 · Build 42 · Porthole"), so a user in another tab sees it run out.
 */
export class TabTitle {
  #base: string;
  #countdown: string | null = null;

  constructor(base: string) {
    this.#base = base;
  }

  /** The page's own title or the VM's (session/title.ts); the countdown stays in front of it. */
  setBase(base: string): void {
    this.#base = base;
    this.#write();
  }

  /** "1:59", or null while no close time is set (or once it has passed). */
  setCountdown(countdown: string | null): void {
    if (countdown === this.#countdown) return;
    this.#countdown = countdown;
    this.#write();
  }

  #write(): void {
    document.title = this.#countdown === null ? this.#base : `${this.#countdown} · ${this.#base}`;
  }
}
