/**
 * The held session a tab comes back to after a reload: its id, how long the gateway holds it and
 * the host key its `ready` named (a resume gets no second `ready`). Kept in sessionStorage, so per
 * tab, per build and per kind; an embedded view keeps it in its frame's storage. The id is no
 * secret: resuming it needs a ticket for the same user.
 */
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

const KEY_PREFIX = 'porthole.session.';

export interface HeldSession {
  readonly id: string;
  /** How long the gateway holds the session after its page drops. */
  readonly resumeSeconds: number;
  readonly hostKey: string;
}

/** The part of the Web Storage API used here, so tests can hand in a plain map. */
export type SessionStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class SessionMemory {
  readonly #key: string;

  /** `store` null: storage is disabled or refused, and a reload starts a new session as it always did. */
  constructor(
    private readonly store: SessionStore | null,
    kind: ConnectionKind,
    buildId: string,
  ) {
    this.#key = `${KEY_PREFIX}${kind}.${buildId}`;
  }

  /** This tab's sessionStorage; reading it throws where the browser blocks storage. */
  static forTab(kind: ConnectionKind, buildId: string): SessionMemory {
    let store: SessionStore | null;
    try {
      store = window.sessionStorage;
    } catch {
      store = null;
    }
    return new SessionMemory(store, kind, buildId);
  }

  /** What was stored, unless it is missing or not what this page wrote. */
  read(): HeldSession | null {
    let raw: string | null;
    try {
      raw = this.store?.getItem(this.#key) ?? null;
    } catch {
      return null;
    }
    if (raw === null) return null;
    try {
      return heldSessionOf(JSON.parse(raw));
    } catch {
      return null;
    }
  }

  remember(session: HeldSession): void {
    try {
      this.store?.setItem(this.#key, JSON.stringify({ id: session.id, resumeSeconds: session.resumeSeconds, hostKey: session.hostKey }));
    } catch {
      // Full or refused: the session still resumes after a drop, only not after a reload.
    }
  }

  forget(): void {
    try {
      this.store?.removeItem(this.#key);
    } catch {
      // Refused: nothing was kept either.
    }
  }
}

function heldSessionOf(value: unknown): HeldSession | null {
  if (typeof value !== 'object' || value === null) return null;
  const { id, resumeSeconds, hostKey } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof hostKey !== 'string') return null;
  if (typeof resumeSeconds !== 'number' || !Number.isSafeInteger(resumeSeconds) || resumeSeconds <= 0) return null;
  return { id, resumeSeconds, hostKey };
}
