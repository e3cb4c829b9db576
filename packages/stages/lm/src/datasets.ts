// Where a stage's datasets come from and what role each plays. A recipe step lists dataset URIs
// (s3://, file://, http(s)://); the role of each comes from its file name, so the recipe stays a
// plain list and the manifest records every one with its sha256:
//   held-out  names matching `heldOut` (default: a ".val." / ".test." / "-val" ... part)
//   replay    (cpt) names matching the step's replay pattern
// s3:// URIs are read through the relay's store, so a service needs no second set of credentials.
// What a service may read at all is its operator's choice (@baton/store's access.ts): the relay checks
// the event before training, and the opener checks again before each read.

import { BatonError, type DatasetRef } from "@baton/contracts";
import type { SourceOpener } from "@baton/data";
import type { DataAccess, Store } from "@baton/store";
import { StepInvalid } from "./config.ts";

export const HELD_OUT = "(^|[._-])(val|valid|validation|test|heldout|held-out)([._-]|$)";

/**
 * Opens s3:// URIs through the store; other schemes fall through to @baton/data's own readers.
 * With `access`, a URI outside the allowed locations is refused before anything is opened.
 */
export function storeOpener(store: Store | undefined, access?: DataAccess): SourceOpener {
  return (uri: string) => {
    try {
      access?.check(uri, "dataset");
    } catch (err) {
      return Promise.reject(err);
    }
    if (!uri.startsWith("s3://")) return undefined;
    if (store?.kind !== "s3") {
      return Promise.reject(
        BatonError.fatal(
          "CONFIG_INVALID",
          `dataset ${uri}: s3:// datasets need the service to run with S3_ENDPOINT / S3_BUCKET set (store here: ${store?.kind ?? "none"})`,
        ),
      );
    }
    return store.getStream(store.keyOf(uri)) as Promise<AsyncIterable<Uint8Array>>;
  };
}

function fileName(uri: string): string {
  const path = uri.split(/[?#]/)[0] ?? uri;
  return path.slice(path.lastIndexOf("/") + 1);
}

export interface SplitData {
  train: string[];
  heldOut: string[];
}

/** Splits a step's URIs into training and held-out sets by file name. */
export function splitByRole(uris: readonly string[], heldOutPattern = HELD_OUT): SplitData {
  const re = new RegExp(heldOutPattern, "i");
  const train: string[] = [];
  const heldOut: string[] = [];
  for (const u of uris) (re.test(fileName(u)) ? heldOut : train).push(u);
  return { train, heldOut };
}

/** Keeps the URIs whose file name matches `pattern`, and the rest. */
export function partition(uris: readonly string[], pattern: string): [string[], string[]] {
  const re = new RegExp(pattern, "i");
  const yes: string[] = [];
  const no: string[] = [];
  for (const u of uris) (re.test(fileName(u)) ? yes : no).push(u);
  return [yes, no];
}

/** The step must name at least one training dataset (and a held-out one when `needHeldOut`). */
export function requireData(
  step: { name: string; data: string[] },
  split: SplitData,
  needHeldOut: boolean,
  what: string,
): void {
  if (split.train.length === 0) {
    throw new StepInvalid(step.name, [
      `/data: no training dataset for ${what} (got ${JSON.stringify(step.data)}); add one`,
    ]);
  }
  if (needHeldOut && split.heldOut.length === 0) {
    throw new StepInvalid(step.name, [
      `/data: no held-out dataset (a file name with .val. or .test.) for ${what}; add one`,
    ]);
  }
}

/** The step's data split by role, with at least one training dataset (and a held-out one when `needHeldOut`). */
export function requireSplit(
  step: { name: string; data: string[] },
  heldOutPattern: string,
  needHeldOut: boolean,
  what: string,
): SplitData {
  const split = splitByRole(step.data, heldOutPattern);
  requireData(step, split, needHeldOut, what);
  return split;
}

export function datasetRefs(reports: readonly { uri: string; sha256: string }[]): DatasetRef[] {
  return reports.map((r) => ({ uri: r.uri, sha256: r.sha256 }));
}
