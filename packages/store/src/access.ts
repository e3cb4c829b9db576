// What a stage service may read is the operator's decision, not the event's. An event names its
// datasets and its input checkpoint; before anything is opened, every URI must sit under a location
// the service's own configuration allows:
//   default            the service's store (s3://<bucket>/, or file://<root>/ for a folder store)
//   BATON_ALLOW_DATA   a comma-separated list of further prefixes (file:///data/,s3://other/,https://host/)
//   embedded run       any location: the bus is in this process, so the recipe is the user's own
// Anything else (a path on the service's machine, an http(s) URL to an internal host) is refused with
// a fatal error, so the event is dead-lettered and nothing is read or fetched.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BatonError } from "@baton/contracts";
import type { Store } from "./store.ts";

export interface DataAccess {
  /** "any" or the allowed prefixes, for messages and the startup line. */
  readonly describe: string;
  /** Throws DATA_NOT_ALLOWED (fatal) unless `uri` is under an allowed location. */
  check(uri: string, what: string): void;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The canonical form of a dataset URI or path: plain paths become file:///absolute/path. */
export function canonicalLocation(uri: string): string {
  if (!SCHEME.test(uri)) return pathToFileURL(isAbsolute(uri) ? uri : resolve(uri)).href;
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

/** Every location is allowed (the embedded run: the recipe comes from this process's user). */
export const anyLocation: DataAccess = { describe: "any location", check: () => undefined };

/** Only URIs under `prefixes` (each a folder: a missing trailing "/" is added). */
export function allowLocations(prefixes: readonly string[]): DataAccess {
  const allowed = [
    ...new Set(
      prefixes
        .map((p) => p.trim())
        .filter((p) => p.length > 0)
        .map(folder),
    ),
  ];
  const describe = allowed.length > 0 ? allowed.join(", ") : "nothing";
  return {
    describe,
    check(uri: string, what: string): void {
      const at = canonicalLocation(uri);
      // Dot segments and encoded ones could climb out of an allowed folder after the check.
      const climbs = /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(at.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ""));
      if (!climbs && allowed.some((p) => at.startsWith(p))) return;
      throw BatonError.fatal(
        "DATA_NOT_ALLOWED",
        `${what} ${JSON.stringify(uri)} is outside the locations this service may read (${describe}); ` +
          "an event cannot choose what a service reads: put the data in the store (baton run uploads a recipe's local files), " +
          "or have the operator allow the location with BATON_ALLOW_DATA on this service",
      );
    },
  };
}

/** The store's own location: s3://bucket/ or file:///root/. */
export function storeLocation(store: Store): string {
  return store.uri("x").slice(0, -1);
}

/**
 * The policy of a service: the store's location plus BATON_ALLOW_DATA; `anyLocation` when the run is
 * embedded (in-memory bus).
 */
export function dataAccessFor(store: Store, embedded: boolean, env: NodeJS.ProcessEnv = process.env): DataAccess {
  if (embedded) return anyLocation;
  const extra = (env.BATON_ALLOW_DATA ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const e of extra) {
    if (!SCHEME.test(e) && !isAbsolute(e)) {
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `BATON_ALLOW_DATA entry ${JSON.stringify(e)} is neither a URI prefix (s3://bucket/, file:///data/, https://host/) nor an absolute path`,
      );
    }
  }
  return allowLocations([storeLocation(store), ...extra.map(canonicalLocation)]);
}

function folder(prefix: string): string {
  const c = canonicalLocation(prefix);
  return c.endsWith("/") ? c : `${c}/`;
}
