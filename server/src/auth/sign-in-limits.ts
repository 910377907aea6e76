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
