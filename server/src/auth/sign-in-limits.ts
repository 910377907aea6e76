/**
 * How often anyone may try to sign in with a password. Every attempt, right or wrong, costs an
 * argon2 verification (about half a second of CPU), so attempts are limited as well as failures.
 */

/** Attempts and failures are counted over this window. */
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
/** Failures per client address: enough for a user fumbling passwords on a shared NAT, far too few to guess. */
export const MAX_LOGIN_FAILURES_PER_ADDRESS = 30;
/** Failures per account: stops a distributed guesser aimed at one user. */
export const MAX_LOGIN_FAILURES_PER_ACCOUNT = 10;
/** Attempts per address, right or wrong: an office signing in at nine o'clock, not a CPU burner. */
export const MAX_SIGN_IN_ATTEMPTS_PER_ADDRESS = 60;
/** Attempts per account, right or wrong: a person signs in a few times a day, not twenty in 15 minutes. */
export const MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT = 20;
/**
 * Keys tracked at once per counter: an attacker needs thousands of addresses to fill it (each
 * address may name only MAX_SIGN_IN_ATTEMPTS_PER_ADDRESS accounts per window), and it bounds memory
 * to a few megabytes. When full, new keys are refused rather than old counts forgotten.
 */
export const MAX_TRACKED_SIGN_IN_KEYS = 100_000;

export type SignInRefusal = 'too_many_failures' | 'too_many_attempts' | 'too_busy';

interface Window {
  count: number;
  readonly endsAt: number;
}

/** Counts per key over fixed windows. */
export class WindowCounter {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #maxKeys: number;

  constructor(now: () => number, windowMs: number, maxKeys: number) {
    this.#now = now;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  count(key: string): number {
    const window = this.#windows.get(key);
    return window && window.endsAt > this.#now() ? window.count : 0;
  }

  /** Counts one more for `key`; false when the key cannot be tracked (the counter is full). */
  add(key: string): boolean {
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window && window.endsAt > now) {
      window.count += 1;
      return true;
    }
    if (!window && this.#windows.size >= this.#maxKeys) this.#sweep(now);
    if (!window && this.#windows.size >= this.#maxKeys) return false;
    this.#windows.set(key, { count: 1, endsAt: now + this.#windowMs });
    return true;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key);
  }
}

export interface SignInLimiterDeps {
  readonly now: () => number;
}

/**
 * Password sign-ins per address and per account. An attempt is counted when it is let through,
 * before the password is checked, so concurrent attempts cannot overshoot the attempt limits; a
 * failure is counted only once the password was wrong, so correct sign-ins, however many run at
 * once, never count towards a lockout.
 */
export class SignInLimiter {
  readonly #attempts: WindowCounter;
  readonly #failures: WindowCounter;

  constructor(deps: SignInLimiterDeps) {
    this.#attempts = new WindowCounter(deps.now, SIGN_IN_WINDOW_MS, MAX_TRACKED_SIGN_IN_KEYS);
    this.#failures = new WindowCounter(deps.now, SIGN_IN_WINDOW_MS, MAX_TRACKED_SIGN_IN_KEYS);
  }

  /** Lets one attempt through (and counts it), or says why not. */
  admit(address: string, account: string): SignInRefusal | null {
    const [a, b] = keys(address, account);
    if (this.#failures.count(a) >= MAX_LOGIN_FAILURES_PER_ADDRESS || this.#failures.count(b) >= MAX_LOGIN_FAILURES_PER_ACCOUNT) return 'too_many_failures';
    if (this.#attempts.count(a) >= MAX_SIGN_IN_ATTEMPTS_PER_ADDRESS || this.#attempts.count(b) >= MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT) return 'too_many_attempts';
    if (!this.#attempts.add(a) || !this.#attempts.add(b)) return 'too_busy';
    return null;
  }

  /** The password of an admitted attempt was wrong. */
  failed(address: string, account: string): void {
    const [a, b] = keys(address, account);
    this.#failures.add(a);
    this.#failures.add(b);
  }
}

function keys(address: string, account: string): [string, string] {
  return [`address:${address}`, `account:${account.trim().toLowerCase()}`];
}
