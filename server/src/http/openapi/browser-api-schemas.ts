/**
 * What the browser API answers to the gateway's own pages and embed pages (docs/api.md), as zod
 * schemas for the OpenAPI document: the shapes of shared/src/api.ts and shared/src/embed.ts.
 */
import { z } from 'zod';
import { connectionKindSchema, idSchema, isoTimeSchema, windowViewSchema } from './common-schemas.js';

export const nativeCredentialsSchema = z
  .strictObject({
    ssh: z.strictObject({ username: z.string(), password: z.string().nullable(), hasPrivateKey: z.boolean() }),
    vnc: z.strictObject({ username: z.string().nullable(), password: z.string() }).nullable(),
  })
  .meta({ id: 'NativeCredentials', description: 'What a native ssh / VNC client needs; every reveal is audited.' });

export const recordingsSchema = z
  .strictObject({
    recordings: z.array(
      z.strictObject({
        id: z.string(),
        userId: z.string(),
        userName: z.string().nullable().meta({ description: "The user's name or email, when the user still exists." }),
        startedAt: isoTimeSchema,
        endedAt: isoTimeSchema.nullable(),
        sizeBytes: z.number().int().nonnegative(),
        droppedBytes: z.number().int().nonnegative().meta({ description: 'Output missing from the file because the disk did not keep up.' }),
        url: z.string().meta({ description: 'Same-origin URL of the asciicast v2 file.' }),
        replayUrl: z.string().meta({ description: 'Same-origin URL of the replay page.' }),
      }),
    ),
  })
  .meta({ id: 'Recordings' });

const sessionMode = z.enum(['drive', 'watch']);

export const memberSessionsSchema = z
  .strictObject({
    sessions: z.array(
      z.strictObject({
        sessionId: z.string().meta({ description: 'What a watch ticket names; never a secret.' }),
        kind: connectionKindSchema,
        owner: z.strictObject({ userId: idSchema, name: z.string() }),
        yours: z.boolean(),
        startedAt: isoTimeSchema,
        state: z.enum(['attached', 'held']),
        watchers: z.array(z.strictObject({ userId: idSchema, name: z.string(), mode: sessionMode, you: z.boolean() })),
      }),
    ),
  })
  .meta({ id: 'MemberSessions', description: "A build's live sessions as its members see them, oldest first." });

export const fileListingSchema = z
  .strictObject({
    path: z.string().meta({ description: 'The folder listed, absolute and resolved by the VM.' }),
    entries: z.array(
      z.strictObject({
        name: z.string().meta({ description: "Text from the VM: any character, newlines included. Never HTML." }),
        type: z.enum(['file', 'dir', 'symlink', 'other']),
        size: z.number().int().nonnegative().nullable(),
        modifiedAt: isoTimeSchema.nullable(),
        mode: z.number().int().nonnegative().nullable().meta({ description: 'Permission bits (mode & 0o7777).' }),
      }),
    ),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .meta({ id: 'FileListing' });

export const fileUploadSchema = z
  .strictObject({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })
  .meta({ id: 'FileUpload' });

export const embedCredentialSchema = z
  .strictObject({
    credential: z.string().meta({ description: 'Kept in the page\'s memory only; sent as "Authorization: Bearer".' }),
    expiresAt: isoTimeSchema,
    buildId: idSchema,
    kind: connectionKindSchema,
    parentOrigin: z.string(),
    viewOnly: z.boolean(),
    watchSessionId: z.string().nullable(),
    window: windowViewSchema,
  })
  .meta({ id: 'EmbedCredential' });

/** The probes' answers (../routes/health.ts). */
export const probeSchema = z.strictObject({ status: z.enum(['ok', 'ready', 'draining', 'store_unreachable']) }).meta({ id: 'Probe' });

/** `POST /auth/login` with a JSON body (../routes/auth.ts): forms get pages instead. */
export const loginBody = z.object({ email: z.string().min(1), password: z.string().min(1) });
