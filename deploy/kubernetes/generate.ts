/**
 * Writes deploy/kubernetes/*.yaml from manifests.ts:
 *
 *   node --import tsx deploy/kubernetes/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifests } from './manifests.js';
import { renderManifest } from './render.js';

for (const manifest of manifests()) {
  writeFileSync(join(import.meta.dirname, manifest.file), renderManifest(manifest));
  console.log(`wrote deploy/kubernetes/${manifest.file}`);
}
