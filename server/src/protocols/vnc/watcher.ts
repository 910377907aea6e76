/**
 * A member watching another member's screen (issue #16). The VM's VNC server is shared, so the
 * watcher gets an RFB connection to the VM of its own, dialled and authenticated as the owner's
 * and opened shared (ClientInit 1) so nobody is disconnected, joined to the watcher's page by a
 * screen bridge of its own: its own greeting, probe and backpressure, so a stalled watcher pauses
 * only its own VM socket, never the owner's. Its keys, pointer and clipboard are dropped in the
 * gateway (the filter's view-only mode) until the session's owner lets it drive.
 */
import type { AttachMode } from '../../../../shared/src/protocol/ssh-v1.js';
import type { Attachment, Person, ProtocolSession, RelayedBytes } from '../protocol.js';
import { IGNORING_OBSERVER, type SessionObserver } from '../session-observer.js';
import { ClientMessageFilter } from './client-message-filter.js';
import type { ScreenBridgeDeps } from './bridge.js';

/**
 * A watcher's bytes are not the session's: metrics and the owner's pause count follow the owner's
 * page, as a terminal watcher's do; control changes are told to the owner's observer by the owner.
 */
const WATCHER_OBSERVER: SessionObserver = IGNORING_OBSERVER;

export class ScreenWatcher {
  readonly person: Person;
  readonly #filter: ClientMessageFilter;
  readonly #bridge: ProtocolSession;
  #left = false;

  /**
   * `owner`: the watched session's dependencies, whose VM, credentials and dialer the watcher
   * shares; `openBridge` makes the bridge (ScreenBridge, passed in so this file does not import it).
   */
  constructor(owner: ScreenBridgeDeps, page: Attachment, person: Person, close: (code: number, reason: string) => void, openBridge: (deps: ScreenBridgeDeps) => ProtocolSession) {
    this.person = person;
    this.#filter = new ClientMessageFilter({
      dropInput: true,
      // Only input that reaches the VM is activity: a watcher's dropped mouse moves keep nobody from the idle timeout.
      onInput: () => {
        if (this.mode === 'drive') owner.onInput();
      },
    });
    this.#bridge = openBridge({ ...owner, ws: page.ws, readGate: page.readGate, person, viewOnly: true, observer: WATCHER_OBSERVER, close, filter: this.#filter });
  }

  get mode(): AttachMode {
    return this.#filter.dropsInput ? 'watch' : 'drive';
  }

  /** The owner hands control over or takes it back; false when the watcher already had that mode. */
  setMode(mode: AttachMode): boolean {
    if (this.mode === mode) return false;
    this.#filter.setDropInput(mode === 'watch');
    return true;
  }

  /** Opens the watcher's own VM connection; `failed`: the bridge threw (it reports expected failures itself). */
  start(failed: (error: unknown) => void): void {
    this.#bridge.start().catch(failed);
  }

  /** Closes the watcher's VM connection; false when it had already left. */
  leave(): boolean {
    if (this.#left) return false;
    this.#left = true;
    this.#bridge.stop();
    return true;
  }

  relayed(): RelayedBytes {
    return this.#bridge.relayed();
  }
}
