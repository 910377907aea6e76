/**
 * Two members on one build of a gateway with a real sshd, for the pairing tests (issue #16): the
 * developer owns terminal sessions, the admin watches them. The pages it opens are closed with it.
 */
import assert from 'node:assert/strict';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from './gateway.js';
import { seedWorld, signIn, type World } from './seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from './sshd.js';
import { connectTerminal, mintTicket, mintWatchTicket, type TerminalClient } from './terminal-client.js';

/** The owner's PTY size, which a watcher's page is told and never changes. */
export const OWNER_SIZE = { cols: 100, rows: 30 } as const;
/** A watcher's own page size: never the PTY's. */
const WATCHER_SIZE = { cols: 50, rows: 10 } as const;

export interface PairingFixture {
  readonly sshd: SshdHandle;
  readonly gw: TestGateway;
  readonly world: World;
  readonly ownerAgent: TestAgent;
  readonly watcherAgent: TestAgent;
  /** The owner's terminal on the running Linux build, once `ready`. */
  ownerSession(): Promise<TerminalClient>;
  /** The watcher's page on that session, once `ready`; `ack: false` for a page that reads nothing. */
  watcherOf(owner: TerminalClient, options?: { ack?: boolean }): Promise<TerminalClient>;
  /** A page the test opened itself, closed with the fixture. */
  track(page: TerminalClient): TerminalClient;
  close(): Promise<void>;
}

export function sessionIdOf(t: TerminalClient): string {
  const ready = t.controls.find((c) => c.type === 'ready');
  assert.ok(ready?.type === 'ready');
  return ready.sessionId;
}

export async function startPairing(): Promise<PairingFixture> {
  const sshd = await startSshd();
  const gw = await startGateway();
  const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  const [ownerAgent, watcherAgent] = await Promise.all([signIn(gw, world.users.developer), signIn(gw, world.users.admin)]);
  const open: TerminalClient[] = [];
  const track = (page: TerminalClient): TerminalClient => {
    open.push(page);
    return page;
  };
  return {
    sshd,
    gw,
    world,
    ownerAgent,
    watcherAgent,
    track,
    async ownerSession() {
      const t = track(await connectTerminal(await mintTicket(gw, ownerAgent, world.builds.linuxRunning), gw, { size: OWNER_SIZE }));
      await t.waitForControl('ready');
      return t;
    },
    async watcherOf(owner, options = {}) {
      const ticket = await mintWatchTicket(gw, watcherAgent, world.builds.linuxRunning, sessionIdOf(owner));
      const t = track(await connectTerminal(ticket, gw, { size: WATCHER_SIZE, ...options }));
      await t.waitForControl('ready');
      return t;
    },
    async close() {
      for (const t of open) t.close();
      await gw.close();
      await sshd.stop();
    },
  };
}
