/**
 * `GET /api/v1/builds/{buildId}/window/events`: a build's access window as Server-Sent Events, for
 * the pages without a JSON channel (the build page; the screen page, whose WebSocket is raw RFB).
 * The current window first, then the window again each time it changes on any node (an Extend,
 * Release, PUT, finish or revoke), so every open countdown moves at once (issue #20). Same rule as
 * `GET .../window`: signed in with the session cookie and a member of the build's app.
 *
 * Wire format (docs/api.md, "Window events"): `event: window` with a WindowView as `data`; `event:
 * end` with `{"reason"}` before the gateway closes the stream (signed out, removed from the app,
 * drain); a `:` comment line as heartbeat.
 */
import { Router, type Request, type Response } from 'express';
import type { WindowView } from '../../../../shared/src/api.js';
import type { UserId } from '../../../../shared/src/ids.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../log.js';
import { signInIdOf } from '../../auth/sign-in-id.js';
import { STREAM_ACCESS_ENDED_REASON, type WindowWatchers } from '../../sessions/window-watchers.js';
import { memberStanding, memberWindowView } from './window.js';

/** Proxies and load balancers drop a response idle for 30–60 s; a comment well inside that keeps it open. */
export const WINDOW_HEARTBEAT_MS = 25_000;

export interface WindowEventsRouteDeps {
  readonly store: Store;
  readonly now: () => Date;
  readonly graceMinutes: number;
  /** This node's open streams, told of every change by its AccessEnforcer. */
  readonly watchers: WindowWatchers;
  /** True once a drain has begun: new streams are refused, open ones were ended by it. */
  readonly draining: () => boolean;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
}

export function windowEventsRouter(deps: WindowEventsRouteDeps): Router {
  const router = Router();
  router.get('/builds/:buildId/window/events', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (deps.draining()) throw new GatewayError('draining', 'This gateway is restarting; try again in a moment.');
    const standing = await memberStanding(req, deps, deps.now());
    // A page gone while the store answered has had its 'close' already: a watcher registered now
    // would never be removed, and would hold one of the user's streams until they sign out.
    if (res.destroyed) return;
    const user = req.user as Express.User;
    const stream = openStream(req, res, deps, user.id, standing.build.id);
    const registration = deps.watchers.add({
      userId: user.id,
      appId: standing.build.appId,
      buildId: standing.build.id,
      signInId: signInIdOf(req.sessionID),
      sessionEpoch: user.sessionEpoch,
      changed: () => stream.refresh(),
      end: (reason) => stream.end(reason),
    });
    if (!registration.ok) throw new GatewayError('too_many_window_streams', `You already have ${deps.watchers.perUserLimit} open window streams; close a page first.`);
    stream.start(memberWindowView(standing, deps.now(), deps.graceMinutes), () => registration.value.remove());
  });
  return router;
}

interface Stream {
  /** Sends the headers and the first window; `closed` runs once when the stream ends either way. */
  start(first: WindowView, closed: () => void): void;
  /** Reads the window again and sends it if it changed. */
  refresh(): void;
  /** Says why, then closes; idempotent. */
  end(reason: string): void;
}

function openStream(req: Request, res: Response, deps: WindowEventsRouteDeps, userId: UserId, buildId: string): Stream {
  let ended = false;
  let last: WindowView | null = null;
  let reading = false;
  let again = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let onClosed: () => void = () => undefined;

  const send = (view: WindowView): void => {
    if (ended || (last !== null && sameWindow(last, view))) return;
    last = view;
    res.write(`event: window\ndata: ${JSON.stringify(view)}\n\n`);
  };

  const close = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    onClosed();
  };

  const end = (reason: string): void => {
    if (ended) return;
    res.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
    close();
    res.end();
  };

  // Changes that arrive while a read is in flight are folded into one more read after it.
  const refresh = (): void => {
    if (ended) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    again = false;
    const now = deps.now();
    memberStanding(req, deps, now).then(
      (standing) => send(memberWindowView(standing, now, deps.graceMinutes)),
      (error: unknown) => {
        // No longer a member (or the build is gone): the page's poll says so with its status.
        if (error instanceof GatewayError) return end(STREAM_ACCESS_ENDED_REASON);
        deps.logger.warn({ event: 'window_stream_read_failed', userId, buildId, err: error }, 'window stream could not read the window');
      },
    ).finally(() => {
      reading = false;
      if (again) refresh();
    });
  };

  return {
    start: (first, closed) => {
      onClosed = closed;
      res.status(200);
      res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      res.once('close', close);
      send(first);
      // A change landing between the read above and the registration would otherwise be missed:
      // read once more now that changes are heard (sent only if the window differs).
      refresh();
      heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.heartbeatMs ?? WINDOW_HEARTBEAT_MS);
      heartbeat.unref();
    },
    refresh,
    end,
  };
}

/** remainingMs moves with the clock; only what the page would show differently is news. */
export function sameWindow(a: WindowView, b: WindowView): boolean {
  return a.closesAt === b.closesAt && a.open === b.open && a.extendStepMinutes === b.extendStepMinutes && a.canExtend === b.canExtend;
}
