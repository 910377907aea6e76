import { defineConfig } from 'vite';
import { compression } from 'vite-plugin-compression2';

/** Smaller files gain nothing from compression the headers would not eat. */
const COMPRESS_ABOVE_BYTES = 1024;

/**
 * Vite builds the browser bundles from client/. Pages are rendered by the server, which reads the
 * manifest to link each page's entry; there is no HTML entry here.
 */
export default defineConfig({
  root: 'client',
  publicDir: false,
  // Precompressed at build time (gzip and brotli beside each asset), served as is by the gateway:
  // no compression work per request, and brotli at its best level.
  plugins: [compression({ algorithms: ['gzip', 'brotliCompress'], threshold: COMPRESS_ABOVE_BYTES, exclude: [/\.map$/], logLevel: 'silent' })],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    manifest: true,
    // noVNC 1.7 uses top-level await; every browser we support runs ES2022.
    target: 'es2022',
    sourcemap: true,
    // xterm.js with its WebGL renderer, and noVNC, are each ~0.5 MB; pages load only their own.
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      input: {
        login: 'client/src/pages/login.ts',
        builds: 'client/src/pages/builds.ts',
        build: 'client/src/pages/build.ts',
        terminal: 'client/src/pages/terminal.ts',
        screen: 'client/src/pages/screen.ts',
        replay: 'client/src/pages/replay.ts',
        'embed-terminal': 'client/src/pages/embed-terminal.ts',
        'embed-screen': 'client/src/pages/embed-screen.ts',
        // Served to other sites at /sdk/porthole-embed.js; it must not share chunks (server/src/http/assets.ts checks).
        'porthole-embed': 'client/src/sdk/porthole-embed.ts',
      },
    },
  },
});
