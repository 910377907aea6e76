/**
 * Porthole's embedding SDK, one file served by the gateway at /sdk/porthole-embed.js for
 * dashboards to include (docs/embedding.md):
 *
 *   <script type="module" src="https://porthole.example.com/sdk/porthole-embed.js"></script>
 *   <porthole-terminal src="LAUNCH URL FROM YOUR BACKEND"></porthole-terminal>
 *
 * Each element frames the launch URL and turns the frame's messages into DOM events of the same
 * names (`porthole:ready`, `porthole:connected`, `porthole:window`, `porthole:closed`) with the
 * message as `detail`. `focus()` and `disconnect()` message the frame. `<porthole-terminal>`'s
 * setting attributes (`font-size`, `theme`, `font-family`, `cursor-style`, `cursor-blink`) go in
 * the launch URL's fragment when the frame loads, and as `porthole:settings` when they change
 * later; the embed page validates them. Messages are taken only
 * from the frame this element made and only from the gateway's origin; commands are sent only to
 * that origin.
 *
 * Runs on other sites: it imports types only, so it bundles into one file with no shared chunks.
 */
import type { EmbedCommand, EmbedEvent, EmbedTerminalSettingName, EmbedTerminalSettings } from '../../../shared/src/embed.js';

type EventType = EmbedEvent['type'];
const EVENT_TYPES: ReadonlySet<string> = new Set<EventType>(['porthole:ready', 'porthole:connected', 'porthole:window', 'porthole:closed']);

/** A usable default size; the dashboard's own CSS for the element wins over :host rules. */
const HOST_STYLE = ':host { display: block; height: 30rem; } iframe { display: block; width: 100%; height: 100%; border: 0; }';

/** Every setting the terminal page takes, as a record so that the compiler notices a missing one. */
const TERMINAL_SETTING_ATTRIBUTES = Object.keys({
  'font-size': true,
  theme: true,
  'font-family': true,
  'cursor-style': true,
  'cursor-blink': true,
} satisfies Record<EmbedTerminalSettingName, true>) as EmbedTerminalSettingName[];

abstract class PortholeFrameElement extends HTMLElement {
  static readonly observedAttributes: readonly string[] = ['src'];
  /** The gateway page this element may frame: '/embed/terminal' or '/embed/screen'. */
  protected abstract readonly pagePath: string;
  protected abstract readonly frameTitle: string;
  /** The attributes this element passes to its page (the terminal's settings). */
  protected readonly settingAttributes: readonly EmbedTerminalSettingName[] = [];
  #frame: HTMLIFrameElement | null = null;
  #origin: string | null = null;
  readonly #root: ShadowRoot;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(HOST_STYLE);
    this.#root.adoptedStyleSheets = [sheet];
  }

  /** The single-use launch URL. Setting it (again) starts a new embedded session. */
  get src(): string {
    return this.getAttribute('src') ?? '';
  }

  set src(value: string) {
    this.setAttribute('src', value);
  }

  connectedCallback(): void {
    window.addEventListener('message', this.#onMessage);
    if (!this.#frame && this.src) this.#load(this.src);
  }

  disconnectedCallback(): void {
    window.removeEventListener('message', this.#onMessage);
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (name !== 'src') {
      // The frame's page learns of it; before there is one, #load puts it in the launch URL.
      if (value !== previous && this.#frame) this.#send({ type: 'porthole:settings', settings: this.#settings() });
      return;
    }
    if (value && value !== previous && this.isConnected) this.#load(value);
  }

  /** Gives the terminal or screen the keyboard. */
  override focus(options?: FocusOptions): void {
    this.#frame?.focus(options);
    this.#send({ type: 'porthole:focus' });
  }

  /** Ends the session; the frame stays, showing the disconnected state. */
  disconnect(): void {
    this.#send({ type: 'porthole:disconnect' });
  }

  #load(launchUrl: string): void {
    let url: URL;
    try {
      url = new URL(launchUrl, document.baseURI);
    } catch {
      throw new TypeError(`${this.localName}: src is not a URL`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== this.pagePath) {
      throw new TypeError(`${this.localName}: src must be a Porthole launch URL for ${this.pagePath}`);
    }
    const settings = Object.entries(this.#settings());
    if (settings.length > 0) {
      // Beside the launch token in the fragment, which never reaches a server or a Referer.
      const fragment = new URLSearchParams(url.hash.slice(1));
      for (const [name, value] of settings) fragment.set(name, value);
      url.hash = fragment.toString();
    }
    const frame = document.createElement('iframe');
    frame.title = this.frameTitle;
    // Clipboard for paste into the terminal and copy out of it; full screen for the screen.
    frame.allow = 'clipboard-read; clipboard-write; fullscreen';
    frame.referrerPolicy = 'no-referrer';
    frame.src = url.href;
    this.#origin = url.origin;
    this.#frame?.remove();
    this.#frame = frame;
    this.#root.append(frame);
  }

  #settings(): EmbedTerminalSettings {
    const settings: Partial<Record<EmbedTerminalSettingName, string>> = {};
    for (const name of this.settingAttributes) {
      const value = this.getAttribute(name);
      if (value !== null) settings[name] = value;
    }
    return settings;
  }

  #send(command: EmbedCommand): void {
    const target = this.#frame?.contentWindow;
    if (target && this.#origin) target.postMessage(command, this.#origin);
  }

  readonly #onMessage = (event: MessageEvent): void => {
    if (!this.#frame || event.source !== this.#frame.contentWindow || event.origin !== this.#origin) return;
    const data: unknown = event.data;
    if (typeof data !== 'object' || data === null) return;
    const type = (data as { type?: unknown }).type;
    if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return;
    this.dispatchEvent(new CustomEvent(type, { detail: data, bubbles: true }));
  };
}

export class PortholeTerminalElement extends PortholeFrameElement {
  static override readonly observedAttributes: readonly string[] = ['src', ...TERMINAL_SETTING_ATTRIBUTES];
  protected readonly pagePath = '/embed/terminal';
  protected readonly frameTitle = 'Build VM terminal';
  protected override readonly settingAttributes = TERMINAL_SETTING_ATTRIBUTES;
}

export class PortholeScreenElement extends PortholeFrameElement {
  protected readonly pagePath = '/embed/screen';
  protected readonly frameTitle = 'Build VM screen';
}

// Included twice (two bundles, or a bundle plus the tag), the first definition stays.
if (!customElements.get('porthole-terminal')) customElements.define('porthole-terminal', PortholeTerminalElement);
if (!customElements.get('porthole-screen')) customElements.define('porthole-screen', PortholeScreenElement);
