import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * Node arguments that run a TypeScript entry file through tsx in a child process:
 * `spawn(process.execPath, [...tsxNodeArgs(), "entry.ts", ...args])`.
 * Resolved from this package so the child works from any working directory.
 */
export function tsxNodeArgs(): string[] {
  const loader = createRequire(import.meta.url).resolve("tsx");
  return ["--import", pathToFileURL(loader).href];
}
