/** Build page: local times, the live access window, copy buttons, the audited password Reveal and the live sessions. */
import '../styles/app.css';
import type { NativeCredentialsView, WindowView } from '../../../shared/src/api.js';
import { formatRemaining } from '../../../shared/src/format.js';
import { getJson } from '../lib/api.js';
import { wireCopyButtons } from '../lib/copy.js';
import {
  WINDOW_CLOSED_TEXT,
  WINDOW_WARNING_MS,
  WINDOW_WARNING_TEXT,
  WindowCountdown,
  isWindowWarning,
  markWindowPhase,
  type WindowPhase,
} from '../lib/countdown.js';
import { localiseTimes } from '../lib/local-time.js';
import { pollWindow, sessionWindowSource, type WindowPoll } from '../lib/window-poll.js';
import { findWindowActions, wireWindowActions } from '../lib/window-actions.js';
import { wireLiveSessions } from '../build/live-sessions-list.js';

/**
 * A reload for the same reason within this long means the server keeps rendering what the window
 * endpoint contradicts; reloading again would only loop, so the page updates in place instead.
 */
const RELOAD_LOOP_GUARD_MS = 60_000;
const RELOAD_GUARD_KEY_PREFIX = 'porthole.window-reload.';

type ReloadReason = 'closed' | 'changed';

localiseTimes();
wireCopyButtons();
wireWindow();
wireReveal();
wireLiveSessionsCard();

/** Rendered only for a user who may connect, when watching is on. */
function wireLiveSessionsCard(): void {
  const section = document.querySelector<HTMLElement>('[data-live-sessions]');
  const list = section?.querySelector<HTMLElement>('[data-live-sessions-list]');
  const status = section?.querySelector<HTMLElement>('[data-live-sessions-status]');
  const buildId = buildIdFromPath();
  if (!section || !list || !status || !buildId) return;
  wireLiveSessions({ list, status }, buildId);
}

/**
 * The server renders the window as it stood; this keeps it live. Only a user who may connect (the
 * instructions panel is there) is warned and polls: a tester's countdown just runs out.
 */
function wireWindow(): void {
  const countdownEl = document.querySelector<HTMLElement>('[data-countdown]');
  const renderedRemainingMs = countdownEl ? parseRemainingMs(countdownEl.dataset['remainingMs']) : null;
  const renderedClosed = document.querySelector('[data-refusal="window_closed"]') !== null || renderedRemainingMs === 0;
  const mayConnect = document.querySelector('[data-build-id]') !== null;
  const buildId = buildIdFromPath();
  const banner = mayConnect ? createBanner() : null;
  let poll: WindowPoll | null = null;

  const countdown = new WindowCountdown({
    render: (remainingMs) => {
      if (!countdownEl) return;
      countdownEl.textContent = remainingMs === null ? 'open while the build runs' : remainingMs > 0 ? formatRemaining(remainingMs) : 'closed';
      countdownEl.classList.toggle('countdown-urgent', remainingMs !== null && remainingMs > 0 && remainingMs <= WINDOW_WARNING_MS);
    },
    phase: (phase) => {
      markWindowPhase(phase);
      if (banner) showWindowBanner(banner, phase);
      if (phase !== 'closed') return;
      poll?.stop();
      // The server is the authority; reloading shows the closed state it renders. A page that
      // was rendered closed already shows it, and reloading it would never end.
      if (!renderedClosed) reloadOnce('closed');
    },
  });

  markWindowPhase('open');
  if (renderedClosed) countdown.close();
  else countdown.update(renderedRemainingMs);

  if (!mayConnect || !buildId || renderedClosed) return;
  const onWindow = (view: WindowView): void => {
    if (!view.open) {
      countdown.close();
      return;
    }
    // A close time appearing (the build finished) or going away changes what the server renders
    // around the countdown, not just its number.
    if ((view.remainingMs !== null) !== (countdownEl !== null) && reloadOnce('changed')) return;
    updateClosesAt(view);
    countdown.update(view.remainingMs);
    actions.update(view);
  };
  // Released from this page: closed now, for everyone; the countdown's close reloads into that state.
  const actions = wireWindowActions(findWindowActions(document), buildId, onWindow, () => countdown.close());
  poll = pollWindow(sessionWindowSource(buildId), onWindow);
}

/** Above everything in `main`, so it is seen wherever the page is scrolled to when it appears. */
function createBanner(): HTMLElement {
  const banner = document.createElement('p');
  banner.id = 'window-banner';
  banner.className = 'alert alert-warning';
  banner.setAttribute('role', 'status');
  banner.hidden = true;
  (document.querySelector('main') ?? document.body).prepend(banner);
  return banner;
}

function showWindowBanner(banner: HTMLElement, phase: WindowPhase): void {
  const text = isWindowWarning(phase) ? WINDOW_WARNING_TEXT[phase] : phase === 'closed' ? WINDOW_CLOSED_TEXT : '';
  banner.textContent = text;
  banner.hidden = text === '';
}

/** The "Closes" time follows the gateway when it moves the close time (a revoke narrows it). */
function updateClosesAt(view: WindowView): void {
  if (view.closesAt === null) return;
  const closesAt = new Date(view.closesAt);
  if (Number.isNaN(closesAt.getTime())) return;
  const terms = document.querySelectorAll('section[aria-labelledby="window-title"] dt');
  const dd = [...terms].find((dt) => dt.textContent.trim() === 'Closes')?.nextElementSibling;
  const time = dd?.querySelector<HTMLTimeElement>('time[data-local-time]');
  if (!dd || !time || new Date(time.dateTime).getTime() === closesAt.getTime()) return;
  time.dateTime = closesAt.toISOString();
  localiseTimes(dd);
}

/**
 * Reloads unless the same reason reloaded this page moments ago (see RELOAD_LOOP_GUARD_MS).
 * Tells whether it is reloading.
 */
function reloadOnce(reason: ReloadReason): boolean {
  const key = `${RELOAD_GUARD_KEY_PREFIX}${reason}.${window.location.pathname}`;
  // Wall-clock time only compares two moments on this machine, so its skew does not matter.
  const now = Date.now();
  try {
    const last = Number(window.sessionStorage.getItem(key));
    if (Number.isFinite(last) && last > 0 && now - last >= 0 && now - last < RELOAD_LOOP_GUARD_MS) return false;
    window.sessionStorage.setItem(key, String(now));
  } catch {
    // Storage disabled: no guard, but the reload is still the way to show the server's state.
  }
  window.location.reload();
  return true;
}

/** `/builds/{buildId}`; the panel's data-build-id exists only for users who may connect. */
function buildIdFromPath(): string | null {
  const match = /^\/builds\/([^/]+)\/?$/.exec(window.location.pathname);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** Server-computed; absent or unreadable means the window has no close time yet. */
function parseRemainingMs(raw: string | undefined): number | null {
  const trimmed = raw?.trim();
  if (!trimmed) return null;
  const ms = Number(trimmed);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

function wireReveal(): void {
  const panel = document.querySelector<HTMLElement>('[data-build-id]');
  const buildId = panel?.dataset['buildId'];
  if (!buildId) return;
  let pending: Promise<NativeCredentialsView> | null = null;
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-reveal]')) {
    const kind = button.dataset['reveal'];
    if (kind !== 'ssh' && kind !== 'vnc') continue;
    button.addEventListener('click', () => {
      button.disabled = true;
      pending ??= getJson<NativeCredentialsView>(`/api/v1/builds/${encodeURIComponent(buildId)}/remote-access`);
      pending.then(
        (creds) => {
          const secret = kind === 'ssh' ? creds.ssh.password : (creds.vnc?.password ?? null);
          const output = document.getElementById(`${kind}-password`);
          if (output) output.textContent = secret ?? 'not set';
          button.hidden = true;
          const copy = document.querySelector<HTMLButtonElement>(`button[data-copy="${kind}-password"]`);
          if (copy) copy.hidden = false;
        },
        (error: unknown) => {
          pending = null;
          button.disabled = false;
          const output = document.getElementById(`${kind}-password`);
          if (output) output.textContent = error instanceof Error ? error.message : 'Could not reveal the password.';
        },
      );
    });
  }
}
