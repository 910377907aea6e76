/** How pages follow a build's window (client/src/lib/window-poll.ts): the pure choices, and pollWindow with a fake EventSource, page and clock. */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WINDOW_POLL_INTERVAL_MS,
  WINDOW_SAFETY_POLL_INTERVAL_MS,
  WINDOW_STREAM_RETRY_MS,
  parseWindowEvent,
  pollDelayMs,
  pollWindow,
  sessionWindowSource,
  streamUrlOf,
  type WindowSource,
} from '../../client/src/lib/window-poll.js';

test('polling slows to a safety net while the stream is up, and is brisk without it', () => {
  assert.equal(pollDelayMs(true), WINDOW_SAFETY_POLL_INTERVAL_MS);
  assert.equal(pollDelayMs(false), WINDOW_POLL_INTERVAL_MS);
  assert.ok(WINDOW_SAFETY_POLL_INTERVAL_MS > WINDOW_POLL_INTERVAL_MS);
});

test('the session source offers its events URL; without EventSource, or for an embed source, there is no stream', () => {
  const session = sessionWindowSource('b/1');
  assert.equal(session.eventsUrl, '/api/v1/builds/b%2F1/window/events');
  assert.equal(streamUrlOf(session, true), '/api/v1/builds/b%2F1/window/events');
  assert.equal(streamUrlOf(session, false), null);
  const embed: WindowSource = () => Promise.resolve({});
  assert.equal(streamUrlOf(embed, true), null);
});

test('an event is checked like a polled answer: garbage is ignored, not trusted', () => {
  const view = { closesAt: '2030-01-01T10:00:00.000Z', remainingMs: 5000, open: true, extendStepMinutes: 30, canExtend: true };
  assert.deepEqual(parseWindowEvent(JSON.stringify(view)), view);
  assert.equal(parseWindowEvent('<html>proxy error</html>'), null);
  assert.equal(parseWindowEvent(JSON.stringify({ closesAt: 5 })), null);
  assert.equal(parseWindowEvent(undefined), null);
  assert.deepEqual(parseWindowEvent(JSON.stringify({ ...view, remainingMs: -3 })), { ...view, remainingMs: 0 });
});

/** EventSource as pollWindow uses it: listeners by type, close(). */
class FakeEventSource {
  static opened: FakeEventSource[] = [];
  readonly #listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
  }
  emit(type: string, data?: string): void {
    for (const listener of this.#listeners.get(type) ?? []) listener({ data });
  }
}

/** The page's visibility, as document offers it. */
const fakeDocument = {
  visibilityState: 'visible' as 'visible' | 'hidden',
  listeners: [] as (() => void)[],
  addEventListener(_type: string, listener: () => void): void {
    this.listeners.push(listener);
  },
  removeEventListener(_type: string, listener: () => void): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  },
  show(visible: boolean): void {
    this.visibilityState = visible ? 'visible' : 'hidden';
    for (const listener of this.listeners) listener();
  },
};

const WINDOW = { closesAt: '2030-01-01T10:00:00.000Z', remainingMs: 5000, open: true, extendStepMinutes: null, canExtend: false };
/** Lets a poll's answer (a resolved promise) reach the page. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('pollWindow with the stream', () => {
  const globals = globalThis as Record<string, unknown>;
  let polls: number;
  let views: unknown[];
  let source: WindowSource;

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    Object.assign(globals, { window: globalThis, document: fakeDocument, EventSource: FakeEventSource });
    FakeEventSource.opened = [];
    fakeDocument.visibilityState = 'visible';
    fakeDocument.listeners = [];
    polls = 0;
    views = [];
    source = Object.assign(
      async () => {
        polls += 1;
        return WINDOW;
      },
      { eventsUrl: '/api/v1/builds/b-1/window/events' },
    );
  });
  afterEach(() => {
    mock.timers.reset();
    for (const name of ['window', 'document', 'EventSource']) delete globals[name];
  });

  test('while the stream is up polls come at the safety interval; once it is lost, a poll at once and the stream again later', async () => {
    const poll = pollWindow(source, (view) => views.push(view));
    const [first] = FakeEventSource.opened;
    assert.equal(first?.url, '/api/v1/builds/b-1/window/events');
    first?.emit('window', JSON.stringify(WINDOW));
    assert.deepEqual(views, [WINDOW]);
    mock.timers.tick(WINDOW_POLL_INTERVAL_MS);
    await settle();
    assert.equal(polls, 0, 'the stream carries the changes');
    mock.timers.tick(WINDOW_SAFETY_POLL_INTERVAL_MS - WINDOW_POLL_INTERVAL_MS);
    await settle();
    assert.equal(polls, 1, 'the safety net');

    first?.emit('error');
    await settle();
    assert.equal(first?.closed, true, 'the page, not EventSource, decides when to try again');
    assert.equal(polls, 2, 'a lost stream is made up for by a poll at once');
    mock.timers.tick(WINDOW_STREAM_RETRY_MS);
    assert.equal(FakeEventSource.opened.length, 2, 'and the stream is tried again');
    poll.stop();
    assert.equal(FakeEventSource.opened[1]?.closed, true);
  });

  test('a hidden page gives its stream back; shown again, it asks at once and follows the stream again', async () => {
    const poll = pollWindow(source, (view) => views.push(view));
    const [first] = FakeEventSource.opened;
    fakeDocument.show(false);
    assert.equal(first?.closed, true);
    mock.timers.tick(WINDOW_STREAM_RETRY_MS + WINDOW_SAFETY_POLL_INTERVAL_MS);
    await settle();
    assert.deepEqual([polls, FakeEventSource.opened.length], [0, 1], 'nothing while nobody looks');
    fakeDocument.show(true);
    await settle();
    assert.equal(polls, 1);
    assert.equal(FakeEventSource.opened.length, 2);
    assert.deepEqual(views, [WINDOW]);
    poll.stop();
  });
});
