import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreContract } from "./contract.ts";
import { FsStore } from "./fs.ts";

runStoreContract("fs", async () => {
  const root = await mkdtemp(join(tmpdir(), "baton-fs-store-"));
  return { store: new FsStore(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});
