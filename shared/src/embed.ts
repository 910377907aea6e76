/**
 * Embedding (docs/embedding.md): the launch API's answer, the embed page's credential exchange,
 * and the postMessage protocol between an embed page and the dashboard that frames it.
 *
 * Types only, plus string constants the server and pages share; the one-file SDK imports types
 * alone so that it bundles without chunks shared with the pages.
 */
import type { BuildId } from './ids.js';
import type { WindowView } from './api.js';
import type { ConnectionKind } from './protocol/kinds.js';

/** An embed opens the same kinds of connection as the gateway's own pages. */
export type EmbedKind = ConnectionKind;

/** Answer of `POST /api/v1/embed-sessions` (control API). */
export interface EmbedSessionView {
  /** Single use, valid until expiresAt. The launch token is in the fragment only. */
  readonly url: string;
  readonly expiresAt: string;
}

/** Body of `POST /api/v1/embed/credentials`, sent once by the embed page. */
export interface EmbedExchangeRequest {
  readonly launch: string;
  readonly kind: EmbedKind;
  /** The `parent` the page was served for; must be the launch's parent origin. */
  readonly parentOrigin: string;
}

/** Answer of `POST /api/v1/embed/credentials`. */
export interface EmbedCredentialView {
  /** Kept in the page's memory only; sent as `Authorization: Bearer` to mint connection tickets. */
  readonly credential: string;
  readonly expiresAt: string;
  readonly buildId: BuildId;
  readonly kind: EmbedKind;
  readonly parentOrigin: string;
  readonly viewOnly: boolean;
  /** The session this embed watches (another member's, docs/protocol.md §4b); null: the user's own. */
  readonly watchSessionId: string | null;
  readonly window: WindowView;
}

/** The launch URL's fragment key: `#launch=<token>`. Fragments never reach servers or Referers. */
export const EMBED_LAUNCH_FRAGMENT_KEY = 'launch';
/** The launch URL's query key naming the dashboard's origin (not secret). */
export const EMBED_PARENT_QUERY_KEY = 'parent';
export const EMBED_PAGE_PATHS: Readonly<Record<EmbedKind, string>> = { ssh: '/embed/terminal', vnc: '/embed/screen' };
/**
 * The terminal's settings a dashboard may set (attributes of `<porthole-terminal>`, docs/embedding.md).
 * The SDK passes them in the embed page's fragment beside the launch token (`#launch=…&theme=light`),
 * and the page validates each one; they win over what the user chose in the page's Settings menu.
 */
export type EmbedTerminalSettingName = 'font-size' | 'theme' | 'font-family' | 'cursor-style' | 'cursor-blink';
export const EMBED_TERMINAL_SETTING_NAMES: readonly EmbedTerminalSettingName[] = ['font-size', 'theme', 'font-family', 'cursor-style', 'cursor-blink'];
/** The settings as the element's attributes say now; an attribute removed is absent. Values are validated by the page. */
export type EmbedTerminalSettings = Readonly<Partial<Record<EmbedTerminalSettingName, string>>>;
/** Where the gateway serves the one-file SDK. */
export const EMBED_SDK_PATH = '/sdk/porthole-embed.js';

/** Messages from the embed page to its parent, posted only to the launch's parent origin. */
export type EmbedEvent =
  | { readonly type: 'porthole:ready'; readonly kind: EmbedKind; readonly buildId: string }
  | { readonly type: 'porthole:connected' }
  | { readonly type: 'porthole:window'; readonly closesAt: string | null }
  | {
      readonly type: 'porthole:closed';
      /** A WebSocket close code (docs/protocol.md); 4000 when the access window closed. */
      readonly code: number;
      readonly reason: string;
      /** The gateway's error code when the session was refused before it started. */
      readonly error?: string;
    };

/** Messages from the parent to the embed page, accepted only from the launch's parent origin. */
export type EmbedCommand =
  | { readonly type: 'porthole:focus' }
  | { readonly type: 'porthole:disconnect' }
  /** The terminal's setting attributes changed after the frame loaded: all of them, as they are now. */
  | { readonly type: 'porthole:settings'; readonly settings: EmbedTerminalSettings };
