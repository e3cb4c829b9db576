// What `docker build .` would send: the repository less what .dockerignore excludes (Docker's own
// matching rules, @balena/dockerignore). No node_modules, build output, runs, .git or secret may be
// in it; the sources the images' install step needs must be. And the Dockerfiles pin their bases.

import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// a CommonJS module whose types declare an ES default export: load it as what it is
const ignore = createRequire(import.meta.url)(
  "@balena/dockerignore",
) as typeof import("@balena/dockerignore")["default"];

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function context(): Promise<{ included: string[]; isIgnored(path: string): boolean }> {
  const rules = ignore().add(await readFile(join(ROOT, ".dockerignore"), "utf8"));
  const included: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = relative(ROOT, join(dir, entry.name));
      if (entry.isDirectory()) {
        if (!rules.ignores(`${path}/`) || path === "node_modules") await walk(join(dir, entry.name)); // node_modules: descend, to see that every file in it is left out too
      } else if (!rules.ignores(path)) included.push(path);
    }
  };
  await walk(ROOT);
  return { included, isIgnored: (p) => rules.ignores(p) };
}

describe("the images' build context", () => {
  it("leaves out node_modules, build output, runs, .git and every secret; keeps what the install step needs", {
    timeout: 60_000,
  }, async () => {
    const { included, isIgnored } = await context();
    for (const bad of [
      /(^|\/)node_modules\//,
      /^\.git\//,
      /^runs\//,
      /(^|\/)dist\//,
      /(^|\/)\.env$/,
      /\.env$/,
      /\.creds$/,
    ]) {
      expect(
        included.filter((p) => bad.test(p)),
        String(bad),
      ).toEqual([]);
    }
    // what a working tree may hold besides what is here now
    for (const p of [
      "runs/demo/0/model.safetensors",
      "infra/.env",
      "k8s/base/credentials/nats.env",
      "k8s/base/credentials/s3.env",
      "deploy/my-recipe/nats-users.env",
      "packages/engine/node_modules/onnxruntime-node/bin/x.node",
      ".git/HEAD",
      "packages/cli/dist/baton.mjs",
      "demo-data/general.train.jsonl",
      "secrets/nats.creds",
    ]) {
      expect(isIgnored(p), p).toBe(true);
    }
    for (const p of [
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      "tsconfig.base.json",
      "infra/build-app.sh",
      "packages/cli/src/main.ts",
      "packages/cli/src/build/bundle.ts",
      "packages/cli/recipes/demo.yaml",
      "schemas/cloudevent.schema.json",
      "k8s/base/credentials/nats.env.example",
      "tests/package.json",
    ]) {
      expect(included, p).toContain(p);
    }
  });

  it("the Dockerfiles build on pinned bases, run as a non-root user, and start node on the bundle under tini", async () => {
    for (const file of ["infra/Dockerfile", "infra/Dockerfile.gpu"]) {
      const text = await readFile(join(ROOT, file), "utf8");
      const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      const bases = [...text.matchAll(/^FROM (\S+)/gm)].map((m) =>
        m[1]!.replace(/^\$\{(\w+)\}$/, (_x, name: string) => args[name] ?? name),
      );
      expect(bases.length, file).toBeGreaterThanOrEqual(2); // multi-stage: the build stage is not shipped
      for (const base of bases) expect(base, `${file}: FROM ${base}`).toMatch(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/);
      expect(
        bases.some((b) => /^node:24\./.test(b)),
        `${file}: Node 24 LTS`,
      ).toBe(true);
      // numeric, so a pod with runAsNonRoot can verify it is not root
      expect(text, file).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
      expect(text, file).toContain(
        'ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/baton.mjs", "stage", "serve"]',
      );
      expect(text, file).toContain("sh infra/build-app.sh /app");
    }
  });
});
