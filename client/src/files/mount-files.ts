/**
 * The Files panel on a page that has one: the signed-in terminal page renders #files-toggle and
 * #files-panel. The embedded terminal renders neither and has no panel (it has no cookie, and a
 * Bearer-authorised download could not use the browser's own download UI).
 */
import { FilesPanel } from './panel.js';
import { sessionFilesApi } from './session-files-api.js';

export function mountFilesPanel(buildId: string, terminalHost: HTMLElement, focusTerminal: () => void): FilesPanel | null {
  const host = document.getElementById('files-panel');
  const toggle = document.getElementById('files-toggle');
  if (!host || !(toggle instanceof HTMLButtonElement)) return null;
  toggle.hidden = false;
  return new FilesPanel({ api: sessionFilesApi(buildId), host, toggle, dropTargets: [terminalHost], closed: focusTerminal });
}
