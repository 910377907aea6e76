/**
 * `?watch=<sessionId>` on the terminal and screen pages: the page watches that session, another
 * member's (issue #16). It names the session, never a secret: the watcher's own sign-in and role
 * decide whether the gateway lets it in.
 */

/** As the gateway names sessions (16 hex digits). */
const SESSION_ID = /^[0-9a-f]{16}$/;

/** The session this page is asked to watch; anything but a session id is ignored. */
export function watchedSession(search: string = window.location.search): string | null {
  const id = new URLSearchParams(search).get('watch');
  return id !== null && SESSION_ID.test(id) ? id : null;
}
