/** The screen toolbar's own widgets: toggle buttons, the clipboard drawer, who watches. */
import { describeWatchers, pollLiveSessions, type LiveSessionsPoll } from '../lib/live-sessions.js';

/**
 * A button with aria-pressed. The server-rendered state is the initial one, so the page's markup
 * decides the defaults.
 */
export function wireToggle(button: HTMLButtonElement, onChange: (pressed: boolean) => void): () => boolean {
  let pressed = button.getAttribute('aria-pressed') === 'true';
  button.addEventListener('click', () => {
    pressed = !pressed;
    button.setAttribute('aria-pressed', String(pressed));
    onChange(pressed);
  });
  return () => pressed;
}

export interface ClipboardElements {
  readonly toggle: HTMLButtonElement;
  readonly panel: HTMLElement;
  readonly text: HTMLTextAreaElement;
  readonly send: HTMLButtonElement;
}

export interface ClipboardPanel {
  /** Shows what the VM copied. Untrusted text: it only ever becomes the textarea's value. */
  receive(text: string): void;
  setCanSend(canSend: boolean): void;
  /** Whether keyboard focus is in the drawer, which the screen must then not take. */
  hasFocus(): boolean;
}

/**
 * The VM's clipboard and this machine's cannot be joined silently (the browser only lets a page
 * read the clipboard on a paste gesture), so text crosses through a textarea the user copies
 * from and pastes into.
 */
export function wireClipboardPanel(els: ClipboardElements, onSend: (text: string) => void): ClipboardPanel {
  const { toggle, panel, text, send } = els;
  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  setOpen(!panel.hidden);

  toggle.addEventListener('click', () => {
    const open = panel.hidden;
    setOpen(open);
    if (open) text.focus();
  });
  // Capturing, and stopped here: an Esc meant for the drawer must reach nothing else on the page,
  // least of all noVNC, which would send it to the VM.
  panel.addEventListener(
    'keydown',
    (ev) => {
      if (ev.key !== 'Escape' || ev.isComposing) return;
      ev.preventDefault();
      ev.stopPropagation();
      setOpen(false);
      toggle.focus();
    },
    { capture: true },
  );
  // Closed first, then the screen takes focus (onSend): the next keys, Esc too, are for the VM.
  send.addEventListener('click', () => {
    setOpen(false);
    onSend(text.value);
  });

  return {
    receive: (value) => {
      text.value = value;
    },
    setCanSend: (canSend) => {
      send.disabled = !canSend;
    },
    hasFocus: () => !panel.hidden && panel.contains(document.activeElement),
  };
}

/** Hides the button where full screen is unavailable (iframes without allowfullscreen, iPhone Safari). */

/**
 * "Watching: Sam (can type), Kim" in the toolbar of the owner's screen (issue #16), from the same
 * list the build page shows. `sessionId` names the page's screen session once known; until then
 * (null) the reader's own screen sessions on the build count. Hidden while nobody watches. Names
 * only ever become text.
 */
/**
 * A watching screen page lets noVNC send input while the owner lets this member drive, as the
 * live-session list says; the gateway drops the input otherwise anyway.
 */
export function followWatcherMode(buildId: string, sessionId: string, screen: { allowInput(allowed: boolean): void }): LiveSessionsPoll {
  return pollLiveSessions(
    buildId,
    (sessions) => {
      const me = sessions.find((s) => s.sessionId === sessionId)?.watchers.find((w) => w.you);
      if (me) screen.allowInput(me.mode === 'drive');
    },
    () => screen.allowInput(false),
  );
}

export function wireScreenWatchers(element: HTMLElement, buildId: string, sessionId: () => string | null): LiveSessionsPoll {
  element.hidden = true;
  return pollLiveSessions(
    buildId,
    (sessions) => {
      const id = sessionId();
      const mine = sessions.filter((s) => s.yours && s.kind === 'vnc' && (id === null || s.sessionId === id));
      const line = describeWatchers(mine.flatMap((s) => s.watchers));
      element.textContent = line === '' ? '' : `Watching: ${line}`;
      element.hidden = line === '';
    },
    () => {
      element.hidden = true;
    },
  );
}
