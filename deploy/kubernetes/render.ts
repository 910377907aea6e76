/**
 * One manifest as the YAML file committed beside it: a header saying where it comes from, then
 * the object (validated against the Kubernetes schemas first, so an invalid one is never written).
 */
import { stringify } from 'yaml';
import type { ManifestFile } from './manifests.js';

const HEADER = '# Generated from deploy/kubernetes/manifests.ts by `node --import tsx deploy/kubernetes/generate.ts`: edit that, not this.\n';

export function renderManifest(manifest: ManifestFile): string {
  manifest.object.validate();
  return `${HEADER}${stringify(manifest.object.toJSON(), { lineWidth: 0 })}`;
}
