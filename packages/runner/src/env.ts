import { resolve } from "node:path";
import type { Bus, BusSettings } from "@baton/bus";
import { connectNats, MemoryBus, NatsBus, natsAuthFromEnv } from "@baton/bus";
import { BatonError, createRedactor, DEFAULT_RETRY, type RetryPolicy, secretsFromEnv } from "@baton/contracts";
import type { Store } from "@baton/store";
import { type DataAccess, dataAccessFor, FsStore, S3Store } from "@baton/store";
import type { Ledger } from "./ledger/ledger.ts";
import { MemoryLedger } from "./ledger/memory.ts";
import { NatsLedger } from "./ledger/nats.ts";

/** What a stage service (or the embedded `baton run`) talks to. */
export interface StageEnv {
  bus: Bus;
  store: Store;
  ledger: Ledger;
  retry: RetryPolicy;
  /** Where events may point this process's stages (access.ts): any location on the memory bus, else the store plus BATON_ALLOW_DATA. */
  dataAccess: DataAccess;
  /** One line for logs and /status, without secrets: "nats nats://host:4222 + s3 s3://bucket at http://..." */
  describe: string;
  close(): Promise<void>;
}

/**
 * Builds bus, store and ledger from the environment, so `baton run` (embedded) and `baton stage
 * serve` (distributed) share one code path:
 *   NATS_URL                   -> NATS JetStream bus + NATS KV ledger (one connection); else in-memory
 *                                 (NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS; NATS_TLS_CA/_CERT/_KEY)
 *   S3_ENDPOINT / S3_BUCKET    -> S3 store (S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *                                 S3_FORCE_PATH_STYLE default true); else a folder under BATON_HOME or ./runs
 *   BATON_ALLOW_DATA           extra locations stage services may read data from (access.ts)
 *   BATON_ACK_WAIT_MS, BATON_MAX_ATTEMPTS tune the relay (max deliver = attempts + 1, so the runner
 *   can still dead-letter an event whose workers all died). BATON_DUPLICATE_WINDOW_MS sets the
 *   stream's Nats-Msg-Id duplicate window when this process creates the stream (default 2 minutes).
 */
export async function stageEnv(env: NodeJS.ProcessEnv = process.env): Promise<StageEnv> {
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    maxAttempts: intVar(env, "BATON_MAX_ATTEMPTS", DEFAULT_RETRY.maxAttempts),
  };
  const settings: Partial<BusSettings> = {
    ackWaitMs: intVar(env, "BATON_ACK_WAIT_MS", 60_000),
    maxDeliver: retry.maxAttempts + 1,
    ...(env.BATON_DUPLICATE_WINDOW_MS ? { duplicateWindowMs: intVar(env, "BATON_DUPLICATE_WINDOW_MS", 120_000) } : {}),
  };

  // `describe` is printed and shown on /status: through the redactor of this environment
  const shown = createRedactor(secretsFromEnv(env));
  let bus: Bus;
  let ledger: Ledger;
  let busLine: string;
  let closeBus: () => Promise<void>;
  const natsUrl = env.NATS_URL?.trim();
  if (natsUrl) {
    const nc = await connectNats(
      natsUrl.split(",").map((s) => s.trim()),
      env.BATON_SERVICE_NAME ?? "baton",
      natsAuthFromEnv(env),
    );
    bus = await NatsBus.fromConnection(nc, settings);
    ledger = await NatsLedger.connect(nc);
    busLine = `nats ${shown.text(natsUrl)}`;
    closeBus = async () => {
      await nc.drain().catch(() => nc.close());
    };
  } else {
    bus = new MemoryBus(settings);
    ledger = new MemoryLedger();
    busLine = "memory bus";
    closeBus = () => bus.close();
  }

  let store: Store;
  const bucket = env.S3_BUCKET?.trim();
  const endpoint = env.S3_ENDPOINT?.trim();
  if (bucket || endpoint) {
    if (!bucket)
      throw BatonError.fatal(
        "CONFIG_INVALID",
        "S3_ENDPOINT is set but S3_BUCKET is not: set S3_BUCKET to the bucket for checkpoints (or unset both for the local folder store)",
      );
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    const s3 = new S3Store({
      bucket,
      ...(endpoint ? { endpoint } : {}),
      region: env.S3_REGION ?? env.AWS_REGION ?? "us-east-1",
      forcePathStyle: (env.S3_FORCE_PATH_STYLE ?? "true") !== "false",
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    });
    if (env.S3_CREATE_BUCKET === "true") await s3.ensureBucket();
    store = s3;
  } else {
    store = new FsStore(resolve(env.BATON_HOME ?? "./runs"));
  }
  const storeLine =
    store.kind === "s3"
      ? `s3 s3://${bucket} at ${endpoint ? shown.text(endpoint) : "AWS"}`
      : `folder ${(store as FsStore).root}`;

  return {
    bus,
    store,
    ledger,
    retry,
    dataAccess: dataAccessFor(store, bus.kind === "memory", env),
    describe: `${busLine} + ${storeLine}`,
    close: async () => {
      await ledger.close();
      await closeBus();
      await store.close();
    },
  };
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw BatonError.fatal("CONFIG_INVALID", `${name}=${JSON.stringify(raw)} is not a positive integer`);
  return n;
}
