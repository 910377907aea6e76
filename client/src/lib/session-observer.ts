/**
 * What a terminal or screen session reports beyond its own page: an embed page forwards it to the
 * dashboard that frames it (lib/embed-parent.ts). The signed-in pages observe nothing.
 */
import type { EmbedTerminalSettings } from '../../../shared/src/embed.js';
import type { Disconnect } from '../session/state.js';

export interface SessionObserver {
  connected(): void;
  /** The access window as the gateway last said; `closesAt` null while the build runs. */
  window(closesAt: string | null): void;
  /** The session ended, or could not start. */
  ended(why: Disconnect): void;
}

/** A mounted terminal or screen, as an embedding dashboard may drive it. */
export interface MountedSession {
  focus(): void;
  /** Ends the session (close code 1000); Reconnect starts a new one. */
  disconnect(): void;
  /** The dashboard changed the element's setting attributes (a terminal only; unvalidated). */
  settings?(named: EmbedTerminalSettings): void;
}

export const IGNORE_SESSION: SessionObserver = { connected: () => undefined, window: () => undefined, ended: () => undefined };
