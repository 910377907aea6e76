/**
 * Response objects for the path files: a JSON answer, a body-less one, and the refusals an
 * operation gives, grouped by the status ../../errors.ts maps each code to (so the document
 * cannot name a status a code never has).
 */
import { z } from 'zod';
import type { ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import type { ErrorCode } from '../../../../shared/src/errors.js';
import { HTTP_STATUS_BY_CODE } from '../../errors.js';
import { errorBodySchema } from './common-schemas.js';

/** Refusals any route can give: the database out of reach, or a fault of ours. */
const ALWAYS: readonly ErrorCode[] = ['store_unavailable', 'internal'];

export function json(description: string, schema: z.ZodType): ZodOpenApiResponseObject {
  return { description, content: { 'application/json': { schema } } };
}

export function noContent(description: string): ZodOpenApiResponseObject {
  return { description };
}

/** One response per status the codes map to, each listing its codes. */
export function refusals(...codes: readonly ErrorCode[]): ZodOpenApiResponsesObject {
  return refusalResponses(codes, false);
}

/**
 * Outside /api/, a client that accepts HTML (a browser, a form) gets the error page and any other
 * the error body (../middleware/error-handler.ts).
 */
export function pageOrJsonRefusals(...codes: readonly ErrorCode[]): ZodOpenApiResponsesObject {
  return refusalResponses(codes, true);
}

function refusalResponses(codes: readonly ErrorCode[], page: boolean): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ALWAYS])) {
    const status = HTTP_STATUS_BY_CODE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, grouped] of [...byStatus].sort(([a], [b]) => a - b)) {
    const description = `Refused: ${grouped.map((c) => `\`${c}\``).join(', ')}.`;
    responses[String(status) as `${1 | 2 | 3 | 4 | 5}${string}`] = {
      description,
      content: { 'application/json': { schema: errorBodySchema }, ...(page ? { 'text/html': { schema: z.string() } } : {}) },
    };
  }
  return responses;
}
