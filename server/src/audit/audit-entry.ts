/**
 * A gateway event as an audit row: `userId` and `buildId` become columns, every other field goes
 * into `details` under its own name. Aggregated rows (./refusal-aggregator.ts) are built the same way.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { AuditEntry } from '../store/store.js';
import type { GatewayEvent } from './events.js';

export function auditEntryOf(event: GatewayEvent, at: Date): AuditEntry {
  const { type, ...fields } = event;
  const details: Record<string, string | number | boolean | null> = {};
  let userId: UserId | null = null;
  let buildId: BuildId | null = null;
  for (const [key, value] of Object.entries(fields) as [string, string | number | boolean | null][]) {
    if (key === 'userId') userId = value as UserId | null;
    else if (key === 'buildId') buildId = value as BuildId | null;
    else details[key] = value;
  }
  return { at, event: type, userId, buildId, details };
}
