/** The gateway's version (server/src/package-version.ts), as the OpenAPI document states it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageVersion } from '../../server/src/package-version.js';

test('package version: the porthole package.json above the sources, and a clear error with none above', () => {
  const manifest = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(packageVersion(), manifest.version);
  // node_modules/zod has a package.json of its own: skipped, it is not ours.
  assert.equal(packageVersion(resolve(import.meta.dirname, '..', '..', 'node_modules', 'zod')), manifest.version);
  assert.throws(() => packageVersion('/'), /no package\.json of porthole above \//);
});
