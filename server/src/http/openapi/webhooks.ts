/**
 * The webhook payloads as OpenAPI `webhooks` (issue #20): one operation per event type, its body
 * the very schema the emitter builds events with (../../webhooks/events.ts). Signed as Standard
 * Webhooks (docs/operations.md, "Webhooks"); any 2xx acknowledges, anything else is retried.
 */
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { webhookEventSchema } from '../../webhooks/events.js';
import { noContent } from './responses.js';

const signatureHeaders = z.object({
  'webhook-id': z.string().meta({ description: "The event's id: receivers dedupe by it (delivery is at least once)." }),
  'webhook-timestamp': z.string().regex(/^\d+$/).meta({ description: 'Unix seconds of this attempt; refuse stale ones.' }),
  'webhook-signature': z.string().meta({ description: '`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with PORTHOLE_WEBHOOK_SECRET.' }),
});

export const webhooks: ZodOpenApiPathsObject = Object.fromEntries(
  webhookEventSchema.options.map((event) => {
    const type = event.shape.type.value;
    return [
      type,
      {
        post: {
          summary: `The \`${type}\` event`,
          tags: ['Webhooks'],
          security: [],
          requestParams: { header: signatureHeaders },
          requestBody: { required: true, content: { 'application/json': { schema: event.meta({ id: `WebhookEvent.${type}` }) } } },
          responses: { '2XX': noContent('Received; any other answer is retried with backoff for 24 hours.') },
        },
      },
    ];
  }),
);
