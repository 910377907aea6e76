/**
 * Finds the Vite-built browser bundles for a page entry. The manifest maps source entries to
 * hashed files, so pages can be cached forever and still update on deploy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const CLIENT_ENTRIES = [
  'src/pages/login.ts',
  'src/pages/builds.ts',
  'src/pages/build.ts',
  'src/pages/terminal.ts',
  'src/pages/screen.ts',
  'src/pages/replay.ts',
] as const;
export type ClientEntry = (typeof CLIENT_ENTRIES)[number];

export interface PageAssets {
  readonly scripts: readonly string[];
  readonly styles: readonly string[];
}

const manifestSchema = z.record(
  z.string(),
  z.object({ file: z.string(), css: z.array(z.string()).optional(), imports: z.array(z.string()).optional() }),
);

export class AssetManifest {
  readonly #entries: ReadonlyMap<ClientEntry, PageAssets>;

  private constructor(entries: ReadonlyMap<ClientEntry, PageAssets>) {
    this.#entries = entries;
  }

  static load(clientDir: string): AssetManifest {
    const path = join(clientDir, '.vite', 'manifest.json');
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`The browser bundle is not built (${path} is missing): run "npm run build" first.`);
    }
    const manifest = manifestSchema.parse(JSON.parse(raw));
    const entries = new Map<ClientEntry, PageAssets>();
    for (const entry of CLIENT_ENTRIES) {
      const chunk = manifest[entry];
      if (!chunk) throw new Error(`The browser bundle has no entry for ${entry}: rebuild with "npm run build".`);
      const styles = new Set<string>(chunk.css ?? []);
      for (const imported of chunk.imports ?? []) for (const css of manifest[imported]?.css ?? []) styles.add(css);
      entries.set(entry, { scripts: [`/${chunk.file}`], styles: [...styles].map((f) => `/${f}`) });
    }
    return new AssetManifest(entries);
  }

  forEntry(entry: ClientEntry): PageAssets {
    const assets = this.#entries.get(entry);
    if (!assets) throw new Error(`unknown client entry ${entry}`);
    return assets;
  }
}
