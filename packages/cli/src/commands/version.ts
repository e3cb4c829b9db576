import { readFileSync } from "node:fs";

export async function run(): Promise<number> {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  console.log(`baton ${pkg.version} (node ${process.version})`);
  return 0;
}
