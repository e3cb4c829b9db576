import { readFileSync } from "node:fs";
import type { BatonEvent } from "@baton/contracts";
import {
  BatonError,
  createRedactor,
  durableName,
  faultBackoffMs,
  STREAM,
  STREAM_SUBJECTS,
  subjects,
} from "@baton/contracts";
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type MsgHdrs,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
} from "@nats-io/transport-node";
import {
  type Bus,
  type BusSettings,
  DEFAULT_BUS_SETTINGS,
  type Delivery,
  type DurableConsumer,
  type Observed,
  type PublishAck,
  type PublishOptions,
  type Unwatch,
} from "./bus.ts";
import { encodeForPublish, headerValue, sleep } from "./shared.ts";

const STREAM_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
const WATCH_ATTEMPTS = 15;

export interface NatsBusOptions {
  servers: string | string[];
  name?: string;
  settings?: Partial<BusSettings>;
}

/**
 * The bus over NATS JetStream: one file-storage stream `BATON` for `baton.>`, one durable pull
 * consumer per step name (explicit ack, max_ack_pending 1, ack_wait, max_deliver). Work is pulled
 * with next(), one message at a time; no consume() iterator is held open while training.
 */
export class NatsBus implements Bus {
  readonly kind = "nats" as const;
  readonly settings: BusSettings;
  private readonly js: JetStreamClient;
  private readonly consumers = new Map<string, Promise<Consumer>>();

  private constructor(
    readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    settings: BusSettings,
    private readonly ownsConnection: boolean,
  ) {
    this.settings = settings;
    this.js = jetstream(nc);
  }

  /** Connects (reconnecting forever: a restarted nats-server is picked up again) and ensures the stream. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connectNats(options.servers, options.name);
    return NatsBus.fromConnection(nc, options.settings, true);
  }

  /** Uses an existing connection (shared with the ledger); close() then leaves it open. */
  static async fromConnection(
    nc: NatsConnection,
    settings: Partial<BusSettings> = {},
    ownsConnection = false,
  ): Promise<NatsBus> {
    const all = { ...DEFAULT_BUS_SETTINGS, ...settings };
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, all);
    return new NatsBus(nc, jsm, all, ownsConnection);
  }

  async publish(subject: string, event: BatonEvent, options: PublishOptions = {}): Promise<PublishAck> {
    return this.publishRaw(subject, encodeForPublish(subject, event, options.headers), {
      msgId: options.msgId ?? event.id,
      headers: options.headers ?? {},
    });
  }

  async publishRaw(subject: string, payload: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, headerValue(v));
    try {
      const ack = await this.js.publish(subject, payload, {
        headers: h,
        ...(options.msgId !== undefined ? { msgID: options.msgId } : {}),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw BatonError.retry(
        "BUS_UNAVAILABLE",
        `publish to ${subject} failed: ${(err as Error).message}. Is NATS reachable and JetStream enabled (nats-server -js)?`,
        err,
      );
    }
  }

  ensureConsumer(step: string | DurableConsumer): Promise<void> {
    return this.consumer(
      typeof step === "string" ? { durable: durableName(step), filter: subjects.checkpointReady(step) } : step,
    ).then(() => undefined);
  }

  pull(step: string, options: { expiresMs?: number; signal?: AbortSignal } = {}): Promise<Delivery | null> {
    return this.pullDurable({ durable: durableName(step), filter: subjects.checkpointReady(step) }, options);
  }

  async pullDurable(
    consumer: DurableConsumer,
    options: { expiresMs?: number; signal?: AbortSignal } = {},
  ): Promise<Delivery | null> {
    if (options.signal?.aborted) return null;
    const step = consumer.durable;
    let m: JsMsg | null;
    try {
      const c = await this.consumer(consumer);
      // next() refuses expires under 1 s.
      m = await c.next({ expires: Math.max(1_000, options.expiresMs ?? 5_000) });
    } catch (err) {
      this.consumers.delete(step); // re-resolve after a reconnect or a recreated stream
      throw BatonError.retry(
        "BUS_UNAVAILABLE",
        `pull from consumer ${step} (${consumer.filter}) on stream ${STREAM} failed: ${(err as Error).message}`,
        err,
      );
    }
    return m ? toDelivery(m) : null;
  }

  async watch(
    filter: string,
    handler: (m: Observed) => void,
    options: { from?: "all" | "new" } = {},
  ): Promise<Unwatch> {
    const open = async (): Promise<ConsumerMessages> => {
      const c = await this.js.consumers.get(STREAM, {
        filter_subjects: filter, // a string, not an array: servers before 2.10 take one filter_subject only
        deliver_policy: (options.from ?? "all") === "all" ? DeliverPolicy.All : DeliverPolicy.New,
      });
      return c.consume();
    };
    // While nats-server restarts, creating the ordered consumer times out: keep trying for a while.
    let messages: ConsumerMessages | undefined;
    for (let attempt = 1; !messages; attempt++) {
      try {
        messages = await open();
      } catch (err) {
        if (attempt >= WATCH_ATTEMPTS || this.nc.isClosed()) {
          throw BatonError.retry(
            "BUS_UNAVAILABLE",
            `cannot watch ${filter} on stream ${STREAM}: ${(err as Error).message}`,
            err,
          );
        }
        await sleep(faultBackoffMs(attempt, 2_000));
      }
    }
    const live = messages;
    const loop = (async () => {
      for await (const m of live) {
        try {
          handler({ subject: m.subject, seq: m.seq, data: m.data, headers: headerRecord(m.headers) });
        } catch (err) {
          // One message's handler fault must not end the watch for every later message.
          process.emitWarning(
            `a watcher of ${filter} threw on stream message ${m.seq}; the watch goes on: ${(err as Error).message}`,
          );
        }
      }
    })();
    return async () => {
      await live.close();
      // Closing ends the iteration. An iteration that failed earlier failed because the connection
      // closed under it (expected at shutdown); anything else is said, not dropped.
      await loop.catch((err: unknown) => {
        if (!this.nc.isClosed())
          process.emitWarning(`the watch of ${filter} had ended with an error: ${(err as Error).message}`);
      });
    };
  }

  async ping(): Promise<void> {
    try {
      await this.nc.flush();
      await this.jsm.streams.info(STREAM);
    } catch (err) {
      throw BatonError.retry(
        "BUS_UNAVAILABLE",
        `NATS at ${this.nc.getServer()} does not answer for stream ${STREAM}: ${(err as Error).message}`,
        err,
      );
    }
  }

  async close(): Promise<void> {
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  private consumer(spec: DurableConsumer): Promise<Consumer> {
    const key = spec.durable;
    let c = this.consumers.get(key);
    if (!c) {
      c = this.createConsumer(spec);
      this.consumers.set(key, c);
      c.catch(() => this.consumers.delete(key));
    }
    return c;
  }

  private async createConsumer(spec: DurableConsumer): Promise<Consumer> {
    const durable = spec.durable;
    const config = {
      durable_name: durable,
      filter_subject: spec.filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.from === "new" ? DeliverPolicy.New : DeliverPolicy.All,
      ack_wait: nanos(this.settings.ackWaitMs),
      max_deliver: this.settings.maxDeliver,
      max_ack_pending: 1,
    };
    try {
      await this.jsm.consumers.add(STREAM, config);
    } catch {
      // Exists with other settings (e.g. a changed ack_wait): bring it in line.
      await this.jsm.consumers.update(STREAM, durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: 1,
      });
    }
    return this.js.consumers.get(STREAM, durable);
  }
}

/** How a client proves who it is to NATS, and whether it speaks TLS (from the environment: natsAuthFromEnv). */
export interface NatsAuth {
  user?: string;
  pass?: string;
  token?: string;
  /** A .creds file (JWT + NKey seed) as nsc writes it. */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/**
 * NATS_USER + NATS_PASSWORD, NATS_TOKEN, or NATS_CREDS (a .creds file); NATS_TLS_CA, NATS_TLS_CERT and
 * NATS_TLS_KEY (files) turn TLS on (a tls:// URL does too). Credentials in the URL (nats://u:p@host) work as well.
 */
export function natsAuthFromEnv(env: NodeJS.ProcessEnv): NatsAuth {
  const tls = {
    ...(env.NATS_TLS_CA && { caFile: env.NATS_TLS_CA }),
    ...(env.NATS_TLS_CERT && { certFile: env.NATS_TLS_CERT }),
    ...(env.NATS_TLS_KEY && { keyFile: env.NATS_TLS_KEY }),
  };
  return {
    ...(env.NATS_USER && { user: env.NATS_USER }),
    ...(env.NATS_PASSWORD && { pass: env.NATS_PASSWORD }),
    ...(env.NATS_TOKEN && { token: env.NATS_TOKEN }),
    ...(env.NATS_CREDS && { credsFile: env.NATS_CREDS }),
    ...(Object.keys(tls).length > 0 && { tls }),
  };
}

export function connectNats(servers: string | string[], name = "baton", auth: NatsAuth = {}): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  };
  if (auth.user !== undefined) options.user = auth.user;
  if (auth.pass !== undefined) options.pass = auth.pass;
  if (auth.token !== undefined) options.token = auth.token;
  if (auth.tls) options.tls = auth.tls;
  if (auth.credsFile) {
    const file = auth.credsFile;
    try {
      options.authenticator = credsAuthenticator(readFileSync(file));
    } catch (err) {
      return Promise.reject(
        BatonError.fatal(
          "CONFIG_INVALID",
          `NATS_CREDS=${file}: cannot read the credentials file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        ),
      );
    }
  }
  // servers may carry user:password: the message names them through the redactor
  const where = createRedactor([]).text(String(servers));
  return connect(options).catch((err: unknown) => {
    const authFailed = /authoriz|authentic/i.test((err as Error).message ?? "");
    if (authFailed)
      throw BatonError.fatal(
        "BUS_UNAVAILABLE",
        `NATS at ${where} refused this client's credentials: set NATS_USER/NATS_PASSWORD (or NATS_CREDS) to this service's user (see docs/security.md)`,
        err,
      );
    throw BatonError.retry(
      "BUS_UNAVAILABLE",
      `cannot connect to NATS at ${where}: ${createRedactor([]).text((err as Error).message)}. Start nats-server with -js, or unset NATS_URL for the embedded bus.`,
      err,
    );
  });
}

async function ensureStream(jsm: JetStreamManager, settings: BusSettings): Promise<void> {
  const config = {
    name: STREAM,
    subjects: STREAM_SUBJECTS,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(STREAM_MAX_AGE_MS),
  };
  try {
    await jsm.streams.info(STREAM);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (err) {
      // Another service created it between our info and add.
      await jsm.streams.info(STREAM).catch(() => {
        throw BatonError.retry(
          "BUS_UNAVAILABLE",
          `cannot create JetStream stream ${STREAM}: ${(err as Error).message}. Is JetStream enabled (nats-server -js)?`,
          err,
        );
      });
    }
  }
}

function toDelivery(m: JsMsg): Delivery {
  // working/nak/term are fire-and-forget: while disconnected they throw, and the server's ack_wait
  // redelivers anyway, so a lost one must not crash a heartbeat timer or a failure path.
  const quietly = (f: () => void): void => {
    try {
      f();
    } catch {
      /* redelivered after ack_wait */
    }
  };
  return {
    subject: m.subject,
    data: m.data,
    headers: headerRecord(m.headers),
    deliveryCount: m.info.deliveryCount,
    streamSeq: m.seq,
    working: () => quietly(() => m.working()),
    ack: async () => {
      if (!(await m.ackAck()))
        throw BatonError.retry(
          "BUS_UNAVAILABLE",
          `ack of ${m.subject}#${m.seq} was not confirmed by the server; it will be redelivered`,
        );
    },
    nak: (delayMs?: number) => quietly(() => m.nak(delayMs)),
    // nats-server before 2.10 ignores "+TERM <reason>" (and redelivers), so the reason travels in the
    // dead letter instead of the ack.
    term: () => quietly(() => m.term()),
  };
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}
