// The `baton` command as built JavaScript, for images: every @baton/* package (TypeScript sources)
// bundled into <out>/baton.mjs plus one chunk per lazily loaded command and stage, while every
// third-party package stays an import that Node resolves from the node_modules beside <out>
// (`pnpm deploy --prod` installs them). Files the sources read beside themselves
// (`new URL("../../../../schemas/", import.meta.url)`) are copied into <out> under their repository
// path, and the URL is rewritten to point there, so the bundle reads the same schemas and recipes.
//
//   tsx packages/cli/src/build/bundle.ts --out <dir>
import { cp, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const ENTRY = join(ROOT, "packages/cli/src/main.ts");
const ASSET_URL = /new URL\(\s*(["'])([^"']+)\1\s*,\s*import\.meta\.url\s*\)/g;

export interface Bundle {
  out: string;
  /** Repository paths copied into <out> because a source reads them. */
  assets: string[];
}

export async function bundleCli(outDir: string): Promise<Bundle> {
  const out = resolve(outDir);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const assets = new Set<string>();

  // third-party packages are resolved at run time from node_modules; only our own sources are bundled
  const thirdPartyExternal: Plugin = {
    name: "third-party-external",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        args.path.startsWith("@baton/") || args.path.startsWith("node:")
          ? undefined
          : { path: args.path, external: true },
      );
    },
  };
  const assetUrls: Plugin = {
    name: "asset-urls",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, "utf8");
        if (args.path.includes(`${sep}node_modules${sep}`) || !text.includes("import.meta.url"))
          return { contents: text, loader: "ts" };
        const contents = text.replace(ASSET_URL, (whole, _q: string, rel: string) => {
          if (/^[a-z]+:/i.test(rel)) return whole;
          const target = relative(ROOT, resolve(dirname(args.path), rel));
          if (target.startsWith("..") || target === "") return whole;
          const path = target.split(sep).join("/");
          assets.add(path);
          return `new URL(${JSON.stringify(`./${path}${rel.endsWith("/") ? "/" : ""}`)}, import.meta.url)`;
        });
        return { contents, loader: "ts" };
      });
    },
  };

  await build({
    entryPoints: { baton: ENTRY },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: out,
    outExtension: { ".js": ".mjs" },
    // chunks beside the entry: the rewritten asset URLs are relative to the file that holds them
    chunkNames: "[name]-[hash]",
    plugins: [thirdPartyExternal, assetUrls],
    logLevel: "warning",
  });
  for (const path of assets) await cp(join(ROOT, path), join(out, path), { recursive: true });
  return { out, assets: [...assets].sort() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  if (!values.out) {
    console.error("usage: tsx packages/cli/src/build/bundle.ts --out <dir>");
    process.exit(2);
  }
  const b = await bundleCli(values.out);
  console.log(`bundled the baton command into ${b.out}/baton.mjs; copied ${b.assets.join(", ")}`);
}
