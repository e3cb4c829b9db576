// Entry of the local S3 server process: s3rver on a given port and directory, with the given buckets.
// Run as its own process so a test can make S3 unreachable (stop) and bring it back (restart).
// Usage: s3-server-process.ts <port> <directory> <bucket>[,<bucket>...]
import S3rver from "s3rver";
import { exitWithParent } from "./child-process.ts";

exitWithParent();

const [portArg, directory, bucketsArg] = process.argv.slice(2);
if (!portArg || !directory || !bucketsArg) {
  console.error("usage: s3-server-process.ts <port> <directory> <bucket>[,<bucket>...]");
  process.exit(2);
}
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(portArg),
  directory,
  silent: true,
  vhostBuckets: false,
  configureBuckets: bucketsArg.split(",").map((name) => ({ name })),
});
const address = await server.run();
console.log(`s3 server ready on ${address.address}:${address.port}`);
const shutdown = () => void server.close().finally(() => process.exit(0));
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
