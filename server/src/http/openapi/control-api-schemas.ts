/**
 * What the control API answers (docs/api.md "Control API"), as zod schemas for the OpenAPI
 * document: the shapes of shared/src/api.ts and shared/src/embed.ts, checked against real
 * responses by the integration tests (test/helpers/openapi-contract.ts, response-recorder.ts).
 */
import { z } from 'zod';
import { BUILD_STATUSES, ROLES, STACKS } from '../../../../shared/src/roles.js';
import { connectionKindSchema, idSchema, isoTimeSchema } from './common-schemas.js';

export const userViewSchema = z
  .strictObject({
    id: idSchema,
    email: z.string(),
    name: z.string().nullable(),
    hasPassword: z.boolean(),
    oidcSubject: z.string().nullable().meta({ description: 'The OpenID Connect subject this user signs in with, if registered.' }),
  })
  .meta({ id: 'User' });

export const appViewSchema = z
  .strictObject({ id: idSchema, name: z.string(), recordSessions: z.boolean().meta({ description: "Terminal sessions on this app's builds are recorded." }) })
  .meta({ id: 'App' });

export const membershipViewSchema = z.strictObject({ appId: idSchema, userId: idSchema, role: z.enum(ROLES) }).meta({ id: 'Membership' });

export const buildViewSchema = z
  .strictObject({
    id: idSchema,
    appId: idSchema,
    stack: z.enum(STACKS),
    status: z.enum(BUILD_STATUSES),
    window: z.strictObject({
      opensAt: isoTimeSchema.meta({ description: 'Access opens when the build starts.' }),
      closesAt: isoTimeSchema.nullable().meta({ description: 'null while the build is running (open-ended).' }),
    }),
    extensions: z
      .strictObject({ stepMinutes: z.number().int().positive(), maxMinutes: z.number().int().positive() })
      .nullable()
      .meta({ description: 'What users may add to the window; null: no extensions.' }),
  })
  .meta({ id: 'Build' });

export const liveConnectionsSchema = z
  .strictObject({
    sessions: z.array(
      z.strictObject({
        node: z.string().meta({ description: 'The gateway node holding the connection (PORTHOLE_NODE_ID).' }),
        connectionId: z.string(),
        userId: idSchema,
        kind: connectionKindSchema,
        openedAt: isoTimeSchema,
        bytesToBrowser: z.number().int().nonnegative(),
        bytesFromBrowser: z.number().int().nonnegative(),
      }),
    ),
  })
  .meta({ id: 'LiveConnections', description: 'One row per live terminal or screen connection, on whichever node holds it.' });

const auditDetailValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const auditPageSchema = z
  .strictObject({
    events: z.array(
      z.strictObject({
        id: z.number().int().positive(),
        at: isoTimeSchema,
        event: z.string(),
        userId: z.string().nullable(),
        buildId: z.string().nullable(),
        details: z.record(z.string(), auditDetailValue).meta({ description: 'Event-specific fields (docs/operations.md); never a secret or terminal content.' }),
      }),
    ),
    next: z.number().int().positive().nullable().meta({ description: 'Pass as `before` for the next (older) page; null on the last page.' }),
  })
  .meta({ id: 'AuditPage' });

export const webhookDeliveriesSchema = z
  .strictObject({
    enabled: z.boolean().meta({ description: 'False when PORTHOLE_WEBHOOK_URL is not set.' }),
    pending: z
      .number()
      .int()
      .nonnegative()
      .meta({ description: 'Deliveries still to come, on every node: events not yet delivered or given up, per endpoint. 0: nothing more will be sent until the next event.' }),
    deliveries: z.array(
      z.strictObject({
        at: isoTimeSchema,
        eventId: z.string().meta({ description: "The event's id, also its `webhook-id` header." }),
        endpoint: z.string(),
        type: z.string(),
        buildId: z.string(),
        attempt: z.number().int().positive(),
        outcome: z.enum(['delivered', 'failed', 'gave_up']),
        statusCode: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when it did not answer." }),
        error: z.string().nullable(),
        durationMs: z.number().nonnegative(),
      }),
    ),
  })
  .meta({ id: 'WebhookDeliveries' });

export const embedSessionViewSchema = z
  .strictObject({
    url: z.url().meta({ description: 'Single use, valid until expiresAt. The launch token is in the fragment only.' }),
    expiresAt: isoTimeSchema,
  })
  .meta({ id: 'EmbedSession' });
