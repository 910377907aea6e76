/**
 * The postMessage channel between an embed page and the dashboard that frames it
 * (docs/embedding.md). Events go only to the launch's parent origin; commands are accepted only
 * from that origin and from the parent window itself, so another frame or a popup cannot steer it.
 */
import { EMBED_TERMINAL_SETTING_NAMES, type EmbedCommand, type EmbedEvent, type EmbedTerminalSettingName } from '../../../shared/src/embed.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { ABNORMAL_CLOSURE_CODE } from '../../../shared/src/protocol/close-codes.js';
import type { Disconnect } from '../session/state.js';
import type { SessionObserver } from './session-observer.js';

/** Refusals after which nothing the user can do in the frame helps: reported as 4003 (forbidden). */
const FORBIDDING_ERRORS: ReadonlySet<string> = new Set(['role_forbidden', 'not_found', 'forbidden_origin', 'unauthenticated', 'invalid_ticket']);

export class ParentChannel {
  constructor(readonly parentOrigin: string) {}

  post(event: EmbedEvent): void {
    // Opened top-level there is no parent to tell; the target origin keeps anyone else from reading it.
    if (window.parent === window) return;
    window.parent.postMessage(event, this.parentOrigin);
  }

  onCommand(handler: (command: EmbedCommand) => void): void {
    window.addEventListener('message', (event: MessageEvent) => {
      if (event.source !== window.parent || event.origin !== this.parentOrigin) return;
      const command = parseCommand(event.data);
      if (command) handler(command);
    });
  }
}

/** Forwards what the session reports; the window only when its close time changes (the screen polls). */
export function parentObserver(channel: ParentChannel): SessionObserver {
  let lastClosesAt: string | null | undefined;
  return {
    connected: () => channel.post({ type: 'porthole:connected' }),
    window: (closesAt) => {
      if (closesAt === lastClosesAt) return;
      lastClosesAt = closesAt;
      channel.post({ type: 'porthole:window', closesAt });
    },
    ended: (why) => channel.post(closedEventOf(why)),
  };
}

/** A refused start is reported with the close code a refused connection would have had. */
export function closedEventOf(why: Disconnect): EmbedEvent {
  if (why.kind === 'closed') return { type: 'porthole:closed', code: why.code, reason: why.serverError ?? why.reason };
  return { type: 'porthole:closed', code: refusalCloseCode(why.code), reason: why.message, error: why.code };
}

export function refusalCloseCode(errorCode: string): number {
  if (errorCode === 'window_closed') return CloseCode.windowClosed;
  if (FORBIDDING_ERRORS.has(errorCode)) return CloseCode.forbidden;
  return ABNORMAL_CLOSURE_CODE;
}

function parseCommand(data: unknown): EmbedCommand | null {
  if (typeof data !== 'object' || data === null) return null;
  const type = (data as { type?: unknown }).type;
  if (type === 'porthole:focus' || type === 'porthole:disconnect') return { type };
  if (type !== 'porthole:settings') return null;
  const given: unknown = (data as { settings?: unknown }).settings;
  if (typeof given !== 'object' || given === null) return null;
  // Known names with string values only; the terminal validates the values themselves.
  const settings: Partial<Record<EmbedTerminalSettingName, string>> = {};
  for (const name of EMBED_TERMINAL_SETTING_NAMES) {
    const value: unknown = (given as Record<string, unknown>)[name];
    if (typeof value === 'string') settings[name] = value;
  }
  return { type, settings };
}
