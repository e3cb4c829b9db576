// `baton run` against a cluster: the stage services must never need a path on the submitter's
// machine (and may not read one: @baton/store's access.ts), so the recipe's local datasets go into the
// store first, content-addressed by sha256 (an object already there is not uploaded again), and the
// published recipe names their s3:// URIs. The file name is kept: it gives a dataset its role.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { BatonError, keys, type Recipe } from "@baton/contracts";
import type { Store } from "@baton/store";

export interface UploadedData {
  recipe: Recipe;
  uploaded: number;
  /** Already in the store (same digest, same size). */
  present: number;
}

export async function uploadLocalData(store: Store, recipe: Recipe): Promise<UploadedData> {
  const done = new Map<string, string>();
  let uploaded = 0;
  let present = 0;
  const steps = [];
  for (const [i, step] of recipe.steps.entries()) {
    const data: string[] = [];
    for (const [j, uri] of step.data.entries()) {
      if (!uri.startsWith("file://")) {
        data.push(uri);
        continue;
      }
      let target = done.get(uri);
      if (!target) {
        const path = fileURLToPath(uri);
        const { sha256, size } = await digestFile(path, `recipe /steps/${i}/data/${j}`);
        const key = keys.datasetBlob(sha256, basename(path));
        if ((await store.head(key))?.size === size) present++;
        else {
          const put = await store.putFile(key, path);
          if (put.sha256 !== sha256)
            throw BatonError.retry(
              "STORE_UNAVAILABLE",
              `${path} changed while it was uploaded (sha256 ${sha256} then ${put.sha256}); run again once it is written`,
            );
          uploaded++;
        }
        target = store.uri(key);
        done.set(uri, target);
      }
      data.push(target);
    }
    steps.push({ ...step, data });
  }
  return { recipe: { ...recipe, steps }, uploaded, present };
}

async function digestFile(path: string, where: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    throw BatonError.fatal(
      "DATASET_INVALID",
      `${where}: cannot read ${path} to upload it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path in the recipe`,
    );
  }
  return { sha256: hash.digest("hex"), size };
}
