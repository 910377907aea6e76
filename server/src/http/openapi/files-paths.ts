/**
 * The file endpoints (../routes/files.ts, docs/api.md "Files"): the signed-in user's cookie, or an
 * embedded terminal's credential as `Authorization: Bearer`.
 */
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import type { ErrorCode } from '../../../../shared/src/errors.js';
import { buildIdParams } from './common-schemas.js';
import { fileListingSchema, fileUploadSchema } from './browser-api-schemas.js';
import { browserOperation, MEMBER_REFUSALS, SESSION_SECURITY, type Security } from './browser-paths.js';
import { json, refusals } from './responses.js';

const FILE_SECURITY: Security = [...SESSION_SECURITY, { embedCredential: [] }];

/** Whatever the VM or the gate can say about a file operation. */
const FILE_REFUSALS: readonly ErrorCode[] = [
  ...MEMBER_REFUSALS,
  'forbidden_origin',
  'invalid_field',
  'file_transfer_disabled',
  'file_not_found',
  'file_permission_denied',
  'too_many_transfers',
  'vm_unreachable',
  'vm_login_refused',
  'vm_host_key_changed',
  'vm_shell_refused',
  'file_transfer_failed',
];

const path = z.string().meta({ description: 'On the VM: absolute, `~/…`, or relative to the login home.' });

const binary = (mediaType: string, description: string) => ({ description, content: { [mediaType]: { schema: z.string().meta({ format: 'binary' }) } } });

export const filesPaths: ZodOpenApiPathsObject = {
  '/api/v1/builds/{buildId}/files': {
    get: browserOperation(
      'List a folder on the VM',
      {
        requestParams: { path: buildIdParams, query: z.object({ path: path.optional(), cursor: z.string().optional() }) },
        responses: { '200': json('One page of the folder.', fileListingSchema), ...refusals(...FILE_REFUSALS, 'not_a_folder') },
      },
      FILE_SECURITY,
    ),
  },
  '/api/v1/builds/{buildId}/files/content': {
    get: browserOperation(
      'Download a file (resumable with Range)',
      {
        requestParams: { path: buildIdParams, query: z.object({ path }) },
        responses: {
          '200': binary('application/octet-stream', 'The file.'),
          '206': binary('application/octet-stream', 'The range asked for.'),
          ...refusals(...FILE_REFUSALS, 'not_a_file', 'range_not_satisfiable'),
        },
      },
      FILE_SECURITY,
    ),
    put: browserOperation(
      'Upload a file (the raw bytes are the body)',
      {
        requestParams: { path: buildIdParams, query: z.object({ path, overwrite: z.enum(['true', 'false']).optional() }) },
        requestBody: { required: true, content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
        responses: { '201': json('Written.', fileUploadSchema), ...refusals(...FILE_REFUSALS, 'file_exists', 'not_a_folder', 'payload_too_large') },
      },
      FILE_SECURITY,
    ),
  },
  '/api/v1/builds/{buildId}/files/archive': {
    get: browserOperation(
      'Download a folder as .tar.gz',
      {
        requestParams: { path: buildIdParams, query: z.object({ path }) },
        responses: { '200': binary('application/gzip', 'The folder.'), ...refusals(...FILE_REFUSALS, 'not_a_folder') },
      },
      FILE_SECURITY,
    ),
  },
  '/api/v1/builds/{buildId}/files/download': {
    post: browserOperation(
      "The embedded terminal's download form: its credential in the body, never in a URL",
      {
        requestParams: { path: buildIdParams },
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: z.object({ credential: z.string(), path, as: z.enum(['file', 'folder']) }),
            },
          },
        },
        responses: {
          '200': {
            description: 'The file or the folder archive.',
            content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) }, 'application/gzip': { schema: z.string().meta({ format: 'binary' }) } },
          },
          '204': { description: "Refused while the page navigates: the page stays as it was (it asked first with a call that says why)." },
          ...refusals(...FILE_REFUSALS, 'not_a_file', 'not_a_folder', 'range_not_satisfiable'),
        },
      },
      [],
    ),
  },
};
