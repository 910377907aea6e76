/**
 * Schemas every area of the OpenAPI document shares (./document.ts): the one error body, ids in
 * paths, times as the gateway writes them, the access window and connection tickets.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../../../shared/src/errors.js';
import { ID_PATTERN, ID_RULE } from '../../../../shared/src/ids.js';
import { CONNECTION_KINDS } from '../../../../shared/src/protocol/kinds.js';

/** `{error:{code,message}}` (../../errors.ts): clients branch on the code, never on the message. */
export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES).meta({ description: 'Stable; see docs/api.md "Errors".' }),
      message: z.string().meta({ description: 'For people; may change between versions.' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every refusal the gateway gives, on every route.' });

/** The orchestrator's ids, as `parseId` checks them. */
export const idSchema = z.string().regex(ID_PATTERN, ID_RULE).meta({ id: 'Id', description: ID_RULE, example: 'build-1234' });

/** `Date.toISOString()`: UTC with milliseconds. */
export const isoTimeSchema = z.iso.datetime();

export const connectionKindSchema = z.enum(CONNECTION_KINDS).meta({ id: 'ConnectionKind', description: '"ssh": the terminal; "vnc": the screen.' });

export const buildIdParams = z.object({ buildId: idSchema });

/** shared/src/api.ts WindowView. */
export const windowViewSchema = z
  .strictObject({
    closesAt: isoTimeSchema.nullable().meta({ description: 'null while the build runs (open-ended).' }),
    remainingMs: z.number().int().nonnegative().nullable().meta({ description: "Computed by the server when answering; pages count down from it, not from their own clock." }),
    open: z.boolean(),
    extendStepMinutes: z.number().int().positive().nullable().meta({ description: 'Minutes one Extend adds; null when this build cannot be extended.' }),
    canExtend: z.boolean().meta({ description: 'An Extend would succeed now.' }),
  })
  .meta({ id: 'Window' });

/** shared/src/api.ts ConnectionTicketView. */
export const connectionTicketSchema = z
  .strictObject({
    ticket: z.string().meta({ description: 'Single use, valid until expiresAt; sent only in Sec-WebSocket-Protocol.' }),
    url: z.string().regex(/^wss?:\/\//).meta({ description: 'The WebSocket endpoint for this kind.' }),
    protocol: z.string().meta({ description: 'The data subprotocol to offer beside the ticket.' }),
    expiresAt: isoTimeSchema,
  })
  .meta({ id: 'ConnectionTicket' });
