/**
 * Reads the `pairing` column of live_connections (PostgreSQL migration 9): who is on a session
 * another node holds. Another node wrote it, perhaps a node of another version during a rolling
 * upgrade, so it is checked rather than trusted; what cannot be read shows as attached, unwatched.
 */
import { z } from 'zod';
import type { UserId } from '../../../shared/src/ids.js';
import type { SessionPairing } from '../sessions/session-directory.js';

const pairingSchema = z.object({
  ownerName: z.string(),
  held: z.boolean(),
  watchers: z.array(z.object({ userId: z.string(), name: z.string(), mode: z.enum(['drive', 'watch']) })),
});

export function parsePairing(column: unknown, ownerId: string): SessionPairing {
  const parsed = pairingSchema.safeParse(column);
  if (!parsed.success) return { ownerName: ownerId, held: false, watchers: [] };
  const { ownerName, held, watchers } = parsed.data;
  return { ownerName, held, watchers: watchers.map((w) => ({ ...w, userId: w.userId as UserId })) };
}
