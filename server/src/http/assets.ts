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
  'src/pages/embed-terminal.ts',
  'src/pages/embed-screen.ts',
] as const;
/** The embedding SDK: served under a fixed URL to other sites, so it must be one self-contained file. */
const SDK_ENTRY = 'src/sdk/porthole-embed.ts';
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
  /** The SDK bundle, relative to the client directory. */
  readonly sdkFile: string;

  private constructor(entries: ReadonlyMap<ClientEntry, PageAssets>, sdkFile: string) {
    this.#entries = entries;
    this.sdkFile = sdkFile;
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
      // Shared chunks can carry CSS at any depth (the embed pages share the full pages' chunks).
      const seen = new Set<string>();
      const visit = (name: string): void => {
        if (seen.has(name)) return;
        seen.add(name);
        for (const css of manifest[name]?.css ?? []) styles.add(css);
        for (const imported of manifest[name]?.imports ?? []) visit(imported);
      };
      for (const imported of chunk.imports ?? []) visit(imported);
      entries.set(entry, { scripts: [`/${chunk.file}`], styles: [...styles].map((f) => `/${f}`) });
    }
    const sdk = manifest[SDK_ENTRY];
    if (!sdk) throw new Error(`The browser bundle has no entry for ${SDK_ENTRY}: rebuild with "npm run build".`);
    if ((sdk.imports ?? []).length > 0 || (sdk.css ?? []).length > 0) {
      throw new Error(`${SDK_ENTRY} must bundle into one file, but it imports ${[...(sdk.imports ?? []), ...(sdk.css ?? [])].join(', ')}: import only types there.`);
    }
    return new AssetManifest(entries, sdk.file);
  }

  forEntry(entry: ClientEntry): PageAssets {
    const assets = this.#entries.get(entry);
    if (!assets) throw new Error(`unknown client entry ${entry}`);
    return assets;
  }
}
