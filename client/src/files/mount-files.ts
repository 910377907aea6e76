/**
 * The Files panel on a terminal page that has one (#files-toggle and #files-panel): the signed-in
 * page with its cookie, an embedded terminal with its credential (the `api` says which).
 */
import type { FilesApi } from './files-api.js';
import { FilesPanel } from './panel.js';

export function mountFilesPanel(api: FilesApi, terminalHost: HTMLElement, focusTerminal: () => void): FilesPanel | null {
  const host = document.getElementById('files-panel');
  const toggle = document.getElementById('files-toggle');
  if (!host || !(toggle instanceof HTMLButtonElement)) return null;
  toggle.hidden = false;
  return new FilesPanel({ api, host, toggle, dropTargets: [terminalHost], closed: focusTerminal });
}
