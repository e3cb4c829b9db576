// Public surface of @baton/store: checkpoint and dataset storage (S3-compatible, local filesystem) and data-access rules.

export type { DataAccess } from "./access.ts";
export { allowLocations, anyLocation, canonicalLocation, dataAccessFor, storeLocation } from "./access.ts";
export { sha256Hex } from "./digest.ts";
export { FsStore } from "./fs.ts";
export type { S3StoreOptions } from "./s3.ts";
export { S3Store } from "./s3.ts";
export type { Expected, PutResult, Store } from "./store.ts";
