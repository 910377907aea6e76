/**
 * Find in the terminal's scrollback: Ctrl+Shift+F (Cmd+F on macOS) opens the box, Enter /
 * Shift+Enter step through matches, Escape closes and gives the keyboard back to the shell. Off a
 * Mac, plain Ctrl+F is the shell's (forward a character, less's page down, vim's scroll).
 */
import type { Terminal } from '@xterm/xterm';
import type { ISearchOptions, SearchAddon } from '@xterm/addon-search';
import { CMD, CTRL_SHIFT, IS_MAC, hasModifiers, isLetter } from './keys.js';
import { requireElement } from '../session/dom.js';

/** Every match is highlighted, the current one stronger; the addon needs #RRGGBB colours. */
const SEARCH_OPTIONS: ISearchOptions = {
  decorations: {
    matchBackground: '#5a4a00',
    matchBorder: '#e3b341',
    matchOverviewRuler: '#e3b341',
    activeMatchBackground: '#b35c00',
    activeMatchBorder: '#ffb86b',
    activeMatchColorOverviewRuler: '#ffb86b',
  },
};

export interface SearchBox {
  isOpen(): boolean;
  /** For xterm's key handler: whether the event was the search shortcut. */
  handleKey(ev: KeyboardEvent): boolean;
}

export function wireSearch(term: Terminal, addon: SearchAddon): SearchBox {
  const box = requireElement('term-search', HTMLElement);
  const input = requireElement('term-search-input', HTMLInputElement);

  const find = (direction: 'next' | 'previous', incremental = false): void => {
    const query = input.value;
    if (!query) {
      addon.clearDecorations();
      input.classList.remove('is-not-found');
      return;
    }
    let found = false;
    try {
      found = direction === 'next' ? addon.findNext(query, { ...SEARCH_OPTIONS, incremental }) : addon.findPrevious(query, SEARCH_OPTIONS);
    } catch {
      // The addon recurses once per wrapped row and overflows the stack on a logical line of
      // thousands of rows (a catted minified file); such a search just finds nothing.
    }
    input.classList.toggle('is-not-found', !found);
  };

  const open = (): void => {
    box.hidden = false;
    input.focus();
    input.select();
    if (input.value) find('next', true);
  };

  const close = (): void => {
    box.hidden = true;
    addon.clearDecorations();
    term.clearSelection();
    term.focus();
  };

  const isShortcut = (ev: KeyboardEvent): boolean => hasModifiers(ev, IS_MAC ? CMD : CTRL_SHIFT) && isLetter(ev, 'f');

  input.addEventListener('input', () => find('next', true));
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      find(ev.shiftKey ? 'previous' : 'next');
    }
  });
  // Escape anywhere in the box (input or its buttons) closes it; a search field would otherwise
  // just clear itself.
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      close();
    } else if (isShortcut(ev)) {
      ev.preventDefault();
      input.select();
    }
  });
  requireElement('term-search-next', HTMLButtonElement).addEventListener('click', () => find('next'));
  requireElement('term-search-prev', HTMLButtonElement).addEventListener('click', () => find('previous'));
  requireElement('term-search-close', HTMLButtonElement).addEventListener('click', close);

  // With focus outside the terminal (status bar, banner), the shortcut still opens our search
  // rather than the browser's, which cannot see the terminal's canvas.
  document.addEventListener('keydown', (ev) => {
    if (!isShortcut(ev) || ev.defaultPrevented) return;
    if (ev.target instanceof Node && (box.contains(ev.target) || term.element?.contains(ev.target))) return;
    ev.preventDefault();
    open();
  });

  return {
    isOpen: () => !box.hidden,
    handleKey: (ev) => {
      if (!isShortcut(ev)) return false;
      if (ev.type === 'keydown') {
        ev.preventDefault();
        open();
      }
      return true;
    },
  };
}
