/**
 * Types for the parts of noVNC 1.7 (core/rfb.js, docs/API.md) the screen page uses; the package
 * ships none. Events are dispatched by noVNC's own EventTargetMixin, not a DOM EventTarget: it
 * takes plain functions only (no handleEvent objects, no options) and calls them synchronously
 * from inside its protocol handling, so a listener that throws breaks the connection.
 */
declare module '@novnc/novnc' {
  export interface RFBCredentials {
    readonly username?: string;
    readonly password?: string;
    readonly target?: string;
  }

  export interface RFBOptions {
    /** Default true: other viewers of the desktop are not disconnected. */
    readonly shared?: boolean;
    readonly credentials?: RFBCredentials;
    readonly repeaterID?: string;
    /** Only used when noVNC opens the WebSocket itself (a URL was given). */
    readonly wsProtocols?: readonly string[];
  }

  export interface RFBEventMap {
    connect: CustomEvent<Record<string, never>>;
    /** `clean` is false when noVNC gave up on its own (protocol error, failed handshake). */
    disconnect: CustomEvent<{ readonly clean: boolean }>;
    /** `reason` comes from the server, untrusted, and is absent when the server sent none. */
    securityfailure: CustomEvent<{ readonly status: number; readonly reason?: string }>;
    clipboard: CustomEvent<{ readonly text: string }>;
    /** The name is whatever the VNC server says: untrusted. */
    desktopname: CustomEvent<{ readonly name: string }>;
    credentialsrequired: CustomEvent<{ readonly types: readonly string[] }>;
    bell: CustomEvent<Record<string, never>>;
  }

  export default class RFB {
    /**
     * Connects at once. Given a WebSocket, it must still be CONNECTING or OPEN (a closed one
     * throws); noVNC takes over its on* handler properties, so watch it with addEventListener.
     */
    constructor(target: HTMLElement, urlOrChannel: string | WebSocket, options?: RFBOptions);

    /** Stops sending keyboard, mouse and clipboard input; also stops receiving the clipboard. */
    viewOnly: boolean;
    scaleViewport: boolean;
    clipViewport: boolean;
    /** Only with clipViewport: dragging pans the viewport instead of reaching the VM. */
    dragViewport: boolean;
    /** Asks the server to change its resolution to fit the browser. */
    resizeSession: boolean;
    showDotCursor: boolean;
    focusOnClick: boolean;
    /** 0–9 JPEG quality; noVNC ignores (and logs) anything else. */
    qualityLevel: number;
    /** 0–9; noVNC ignores (and logs) anything else. */
    compressionLevel: number;
    /** A CSS background value for the area around the remote screen. */
    background: string;
    readonly clippingViewport: boolean;

    disconnect(): void;
    sendCtrlAltDel(): void;
    /** Press and release when `down` is omitted. `code` is a KeyboardEvent.code, for servers that take scancodes. */
    sendKey(keysym: number, code: string | null, down?: boolean): void;
    focus(options?: FocusOptions): void;
    blur(): void;
    clipboardPasteFrom(text: string): void;
    /** The framebuffer as last drawn, at the desktop's own size; throws before the desktop has one. */
    getImageData(): ImageData;

    addEventListener<K extends keyof RFBEventMap>(type: K, listener: (this: RFB, event: RFBEventMap[K]) => void): void;
    removeEventListener<K extends keyof RFBEventMap>(type: K, listener: (this: RFB, event: RFBEventMap[K]) => void): void;
  }
}
