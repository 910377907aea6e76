/**
 * Extend and release buttons (issue #20) wherever a page shows the access window: the build page's
 * window card, the terminal's and the screen's status bars. The server decides; the buttons only
 * ask, and show Extend while the window answer says it can work.
 */
import type { WindowView } from '../../../shared/src/api.js';
import { ApiError, postJson } from './api.js';
import { parseWindowView } from './window-poll.js';

/** Asked before releasing: the VM may be torn down at once, for everyone on it. */
export const RELEASE_CONFIRMATION = "Release the VM now? Every terminal and screen on this build closes, for everyone, and the orchestrator may tear the VM down. This can't be undone.";

export interface WindowActionElements {
  readonly extend: HTMLButtonElement | null;
  readonly release: HTMLButtonElement | null;
  readonly status: HTMLElement | null;
}

export interface WindowActions {
  /** A newer window answer (a poll, a terminal's `window` message): Extend shows only while it can work. */
  update(view: Pick<WindowView, 'canExtend'> | { readonly canExtend: boolean }): void;
}

export function findWindowActions(root: ParentNode): WindowActionElements {
  return {
    extend: root.querySelector<HTMLButtonElement>('[data-extend]'),
    release: root.querySelector<HTMLButtonElement>('[data-release]'),
    status: root.querySelector<HTMLElement>('[data-window-actions-status]'),
  };
}

/**
 * `onWindow`: the window after an Extend (the page's countdown follows at once; other pages hear it
 * from the gateway). `onReleased`: the window is closed; the page shows its closed state.
 */
export function wireWindowActions(elements: WindowActionElements, buildId: string, onWindow: (view: WindowView) => void, onReleased: () => void): WindowActions {
  const { extend, release, status } = elements;
  const say = (text: string): void => {
    if (!status) return;
    status.textContent = text;
    status.hidden = text === '';
  };
  const path = (action: 'extend' | 'release'): string => `/api/v1/builds/${encodeURIComponent(buildId)}/${action}`;

  extend?.addEventListener('click', () => {
    extend.disabled = true;
    say('');
    postJson<unknown>(path('extend'))
      .then((body) => {
        const view = parseWindowView(body);
        if (!view) return;
        extend.hidden = !view.canExtend;
        say('Extended.');
        onWindow(view);
      })
      .catch((error: unknown) => {
        say(error instanceof ApiError ? error.message : 'Could not extend the window. Try again.');
        if (error instanceof ApiError && error.code !== 'extension_too_early') extend.hidden = true;
      })
      .finally(() => {
        extend.disabled = false;
      });
  });

  release?.addEventListener('click', () => {
    if (!window.confirm(RELEASE_CONFIRMATION)) return;
    release.disabled = true;
    say('');
    postJson<unknown>(path('release'))
      .then(() => {
        if (extend) extend.hidden = true;
        release.hidden = true;
        say('Released.');
        onReleased();
      })
      .catch((error: unknown) => {
        release.disabled = false;
        say(error instanceof ApiError ? error.message : 'Could not release the VM. Try again.');
      });
  });

  return {
    update(view) {
      if (extend && !extend.disabled) extend.hidden = !view.canExtend;
    },
  };
}
