/**
 * The build page's "Live sessions" card (issue #16): each session's kind, owner, start, whether it
 * is attached or held and who watches it; Watch for other members' sessions; and for the reader's
 * own, each watcher with Let type / Stop typing and Remove. Names and ids come from other users
 * and VMs: they only ever become text nodes and attribute values, never HTML.
 */
import type { MemberSessionView, SessionWatcherView } from '../../../shared/src/api.js';
import { sendJson, type ApiError } from '../lib/api.js';
import { describeWatchers, pollLiveSessions } from '../lib/live-sessions.js';

const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const KIND_LABEL: Readonly<Record<MemberSessionView['kind'], string>> = { ssh: 'Terminal', vnc: 'Screen' };
const PAGE_OF_KIND: Readonly<Record<MemberSessionView['kind'], string>> = { ssh: 'terminal', vnc: 'screen' };
const EMPTY_TEXT = 'No one is connected to this build.';

export interface LiveSessionsCard {
  readonly list: HTMLElement;
  readonly status: HTMLElement;
}

export function wireLiveSessions(card: LiveSessionsCard, buildId: string): void {
  let shown = '';
  const act = (call: Promise<void>): void => {
    call.then(
      () => poll.refresh(),
      (error: ApiError) => {
        card.status.textContent = error.message;
        poll.refresh();
      },
    );
  };
  const render = (sessions: readonly MemberSessionView[]): void => {
    // Rebuilt only when something changed, so a button the reader is about to press stays put.
    const key = JSON.stringify(sessions);
    if (key === shown) return;
    shown = key;
    card.status.textContent = sessions.length === 0 ? EMPTY_TEXT : '';
    card.list.replaceChildren(...sessions.map((s) => sessionRow(s, buildId, act)));
  };
  const poll = pollLiveSessions(buildId, render, (error) => {
    card.list.replaceChildren();
    card.status.textContent = error.status === 410 ? 'The access window has closed.' : error.message;
  });
}

function sessionRow(session: MemberSessionView, buildId: string, act: (call: Promise<void>) => void): HTMLElement {
  const row = el('li', 'live-session');
  row.dataset['sessionId'] = session.sessionId;
  const since = new Date(session.startedAt);
  const who = session.yours ? 'You' : session.owner.name;
  const line = el('p', 'live-session-summary');
  line.append(
    text(`${KIND_LABEL[session.kind]} · ${who} · since ${Number.isNaN(since.getTime()) ? '?' : TIME.format(since)} · `),
    badge(session.state),
  );
  row.append(line);
  if (!session.yours) {
    if (session.watchers.length > 0) row.append(el('p', 'live-session-watchers small muted', `Watching: ${describeWatchers(session.watchers)}`));
    const watch = el('a', 'button button-small', 'Watch');
    (watch as HTMLAnchorElement).href = `/builds/${encodeURIComponent(buildId)}/${PAGE_OF_KIND[session.kind]}?watch=${encodeURIComponent(session.sessionId)}`;
    watch.setAttribute('aria-label', `Watch ${who}'s ${KIND_LABEL[session.kind].toLowerCase()}`);
    row.append(watch);
    return row;
  }
  if (session.watchers.length === 0) {
    row.append(el('p', 'live-session-watchers small muted', 'Nobody is watching.'));
    return row;
  }
  const watchers = el('ul', 'live-session-watchers');
  for (const watcher of session.watchers) watchers.append(watcherRow(session, watcher, buildId, act));
  row.append(watchers);
  return row;
}

function watcherRow(session: MemberSessionView, watcher: SessionWatcherView, buildId: string, act: (call: Promise<void>) => void): HTMLElement {
  const item = el('li', 'live-session-watcher');
  item.dataset['userId'] = watcher.userId;
  const path = `/api/v1/builds/${encodeURIComponent(buildId)}/live-sessions/${encodeURIComponent(session.sessionId)}/watchers/${encodeURIComponent(watcher.userId)}`;
  const driving = watcher.mode === 'drive';
  // Named as the terminal's pairing bar names them, so a screen reader says whom each acts on.
  const toggle = button(driving ? 'Stop typing' : 'Let type', driving ? `Stop ${watcher.name} typing` : `Let ${watcher.name} type`, () =>
    act(sendJson('PUT', path, { mode: driving ? 'watch' : 'drive' })),
  );
  const remove = button('Remove', `Remove ${watcher.name}`, () => act(sendJson('DELETE', path)));
  item.append(text(`${watcher.name} ${driving ? 'can type' : 'is watching'} `), toggle, text(' '), remove);
  return item;
}

function badge(state: MemberSessionView['state']): HTMLElement {
  return el('span', `badge badge-${state === 'held' ? 'held' : 'attached'}`, state === 'held' ? 'held (page closed)' : 'attached');
}

function button(label: string, name: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', 'button button-small', label) as HTMLButtonElement;
  b.type = 'button';
  b.setAttribute('aria-label', name);
  b.addEventListener('click', () => {
    b.disabled = true;
    onClick();
  });
  return b;
}

function el(tag: string, className: string, content?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function text(value: string): Text {
  return document.createTextNode(value);
}
