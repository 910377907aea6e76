/**
 * The webhook payloads (issue #20): one zod schema per event type, so what is sent is what the
 * documentation (and, later, the OpenAPI `webhooks`) says. Every event names its id, type, time,
 * build, app and user; `data` holds what is particular to the type.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

const ref = z.object({ id: z.string() });

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    /** Unique per event, and the `webhook-id` header: receivers dedupe by it (delivery is at least once). */
    id: z.string(),
    type: z.literal(type),
    /** When the gateway observed it (ISO-8601). */
    timestamp: z.iso.datetime(),
    build: ref,
    app: ref,
    /** Whose action it was; null for events no single user caused (aggregated refusals, detaches). */
    user: ref.nullable(),
    data,
  });

export const webhookEventSchema = z.discriminatedUnion('type', [
  envelope('session.opened', z.object({ connectionId: z.string(), kind: z.string(), viewOnly: z.boolean() })),
  envelope(
    'session.closed',
    z.object({ connectionId: z.string(), kind: z.string(), closeCode: z.number().int(), reason: z.string(), durationMs: z.number().int().nonnegative() }),
  ),
  envelope('build.attached', z.object({ connectionId: z.string() })),
  envelope('build.detached', z.object({ idleSince: z.iso.datetime() })),
  // A user's Extend and Release, written in the transaction that moves the close time (./window-changes.ts).
  envelope('build.extended', z.object({ closesAt: z.iso.datetime(), by: ref })),
  envelope('build.released', z.object({ by: ref })),
  envelope('access.refused', z.object({ reason: z.string(), count: z.number().int().positive(), firstAt: z.iso.datetime(), lastAt: z.iso.datetime() })),
]);

export type WebhookEvent = z.infer<typeof webhookEventSchema>;
export type WebhookEventType = WebhookEvent['type'];
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = webhookEventSchema.options.map((o) => o.shape.type.value);

/** Standard Webhooks ids are opaque strings; the `msg_` prefix says what they are in a receiver's logs. */
export function newEventId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}
