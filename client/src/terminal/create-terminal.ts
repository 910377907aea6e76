/** The xterm.js terminal with its addons, opened in the page and kept fitted to it. */
import { Terminal, type IBufferRange } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import { decideLinkOpen, openWebLink, safeWebUrl } from './links.js';
import { LinkPreview } from './link-preview.js';
import { askBeforeOpening } from './link-confirm.js';
import { fontFamilyOf, type TerminalSettings } from './settings.js';
import { THEME_COLOURS } from './themes.js';

/** Enough history to scroll back through a build log without holding the tab's memory hostage. */
const SCROLLBACK_LINES = 10_000;
/** Coalesces the burst of resize notifications a window drag produces into one PTY resize. */
const FIT_DEBOUNCE_MS = 50;

export interface PortholeTerminal {
  readonly term: Terminal;
  readonly search: SearchAddon;
  /** Fits the terminal to its host again (a new font size changes how many cells fit); a watching page's keeps the owner's size. */
  readonly refit: () => void;
}

/**
 * `fitted`: the terminal follows its host's size (a watching page shows the owner's size instead).
 * `settings`: the first look; apply-settings.ts changes it later.
 */
export function createTerminal(host: HTMLElement, settings: TerminalSettings, fitted = true): PortholeTerminal {
  const term = new Terminal({
    cursorBlink: settings.cursorBlink,
    cursorStyle: settings.cursorStyle,
    scrollback: SCROLLBACK_LINES,
    // Unicode11Addon registers its width tables through the proposed API.
    allowProposedApi: true,
    fontFamily: fontFamilyOf(settings.font),
    fontSize: settings.fontSize,
    theme: THEME_COLOURS[settings.theme],
    macOptionIsMeta: true,
    rightClickSelectsWord: false,
    // OSC 8 hyperlinks: the VM chose their text, so the real target is previewed and a lure asked about.
    linkHandler: {
      activate: (_event, uri, range) => activateVmLink(term, uri, range),
      hover: (event, uri, range) => {
        const decision = decideLinkOpen(shownText(term, range), uri);
        if (decision.kind !== 'refuse') preview.show(event, decision.target, decision.kind === 'confirm');
      },
      leave: () => preview.hide(),
      allowNonHttpProtocols: false,
    },
  });
  const preview = new LinkPreview();
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = '11';
  const search = new SearchAddon();
  term.loadAddon(search);
  // Detected URLs are their own text; the preview still says what opens.
  term.loadAddon(
    new WebLinksAddon((_event, uri) => openWebLink(uri), {
      hover: (event, uri) => {
        const target = safeWebUrl(uri);
        if (target !== null) preview.show(event, target, false);
      },
      leave: () => preview.hide(),
    }),
  );

  term.open(host);
  loadWebgl(term);
  const refit = fitted ? keepFitted(host, fit) : () => undefined;
  return { term, search, refit };
}

function activateVmLink(term: Terminal, uri: string, range: IBufferRange): void {
  const decision = decideLinkOpen(shownText(term, range), uri);
  if (decision.kind === 'open') openWebLink(decision.target);
  if (decision.kind === 'confirm') {
    askBeforeOpening({ shown: decision.shown, target: decision.target, open: () => openWebLink(decision.target), closed: () => term.focus() });
  }
}

/** The cells an OSC 8 link covers, as the terminal shows them (ranges are 1-based, end inclusive). */
function shownText(term: Terminal, range: IBufferRange): string {
  const buffer = term.buffer.active;
  let text = '';
  for (let y = range.start.y; y <= range.end.y; y++) {
    const line = buffer.getLine(y - 1);
    if (!line) continue;
    const from = y === range.start.y ? range.start.x - 1 : 0;
    const to = y === range.end.y ? range.end.x : undefined;
    text += line.translateToString(true, from, to);
  }
  return text;
}

/** WebGL is much faster on floods of output; without it (no GPU, blocked) the DOM renderer works. */
function loadWebgl(term: Terminal): void {
  try {
    const webgl = new WebglAddon();
    // Lost contexts (GPU reset, too many tabs) fall back to the DOM renderer instead of a blank screen.
    webgl.onContextLoss(() => webgl.dispose());
    term.loadAddon(webgl);
  } catch {
    // The DOM renderer stays in charge.
  }
}

function keepFitted(host: HTMLElement, fit: FitAddon): () => void {
  const fitIfVisible = (): void => {
    // A hidden host measures 0×0, which would shrink the PTY to the minimum size.
    if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
  };
  fitIfVisible();
  let timer: number | undefined;
  new ResizeObserver(() => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fitIfVisible, FIT_DEBOUNCE_MS);
  }).observe(host);
  return fitIfVisible;
}
