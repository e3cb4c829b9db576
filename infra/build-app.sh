#!/bin/sh
# The images' install step (infra/Dockerfile and infra/Dockerfile.gpu run it; tests/image runs it for
# real): from an installed workspace, the `baton` command's production dependencies go into a clean
# folder as a flat node_modules (`pnpm deploy --prod`), Baton's own TypeScript is bundled into
# <out>/dist/baton.mjs (packages/cli/src/build/bundle.ts), and the TypeScript sources the deploy copied
# are removed: what runs is `node <out>/dist/baton.mjs`, no tsx or pnpm.
set -eu
out=${1:?usage: infra/build-app.sh <out-dir> (a folder that does not exist yet)}
pnpm --filter @baton/cli deploy --prod --prefer-offline --config.node-linker=hoisted "$out"
pnpm exec tsx packages/cli/src/build/bundle.ts --out "$out/dist"
rm -rf "$out/src" "$out/node_modules/@baton" "$out/tsconfig.json"
