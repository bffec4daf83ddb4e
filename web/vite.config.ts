// Builds one web app, the hub (hub/) or with FATHOM_WEB_APP=qmc the management console
// (qmc/), into the build tree, where the node's proxy finds it beside the fathom binary
// (build/web/hub, build/web/qmc). FATHOM_WEB_OUT moves them. Every text file of the output
// also gets a gzip copy (NAME.gz) that the proxy sends to browsers that take gzip.
import { defineConfig, type Plugin } from 'vite';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const app = process.env.FATHOM_WEB_APP === 'qmc' ? 'qmc' : 'hub';
const outDir = resolve(process.env.FATHOM_WEB_OUT ?? resolve(import.meta.dirname, '../build/web'), app);

function gzipCopies(): Plugin {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return {
    name: 'fathom-gzip-copies',
    apply: 'build',
    closeBundle() {
      for (const f of walk(outDir)) {
        if (!/\.(js|css|svg|json|html|map)$/.test(f) || statSync(f).size < 1024) continue;
        writeFileSync(`${f}.gz`, gzipSync(readFileSync(f), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: resolve(import.meta.dirname, app),
  base: './',
  plugins: [gzipCopies()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
});
