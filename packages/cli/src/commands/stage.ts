// `baton stage serve <implementation>`: one stage service. It pulls checkpoint.ready events for its
// step from NATS (NATS_URL), trains, commits to S3 (S3_ENDPOINT / S3_BUCKET) and emits the next
// event; SIGTERM stops at the next train-step boundary after a snapshot, and the event is redelivered
// to another worker. `--once` takes one event, finishes it and exits: the KEDA ScaledJob mode, where
// a pod exists only while an event waits.
import { runStage, type StageOutcome, serveStage, stageEnv } from "@baton/runner";
import { startServiceFace } from "@baton/service";
import { IMPLEMENTATIONS, implementation } from "@baton/stage-registry";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton stage serve <implementation> [--step <name>] [--once] [--idle-exit-s <n>] [--threads <n>]
       baton stage list

  --step <name>      the recipe step whose events to take (default: the stage's name)
  --once             take one event, finish it, exit (0 when committed, 1 when dead-lettered)
  --idle-exit-s <n>  with --once: exit 0 when no event arrives within n seconds (default 60)
  --threads <n>      onnxruntime threads (default 2)

The service answers /healthz /readyz /metrics /status /events on $BATON_HTTP_HOST:$BATON_HTTP_PORT
(default 127.0.0.1:8080; 0 = any free port; a pod sets BATON_HTTP_HOST=0.0.0.0), at most
$BATON_HTTP_MAX_CONNECTIONS connections (256) and $BATON_HTTP_MAX_EVENT_STREAMS event streams (64).
It reads datasets and checkpoints only in its store and under $BATON_ALLOW_DATA (comma-separated prefixes).

implementations: ${Object.entries(IMPLEMENTATIONS)
  .map(([n, i]) => `${n} (stage ${i.stage})`)
  .join(", ")}`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "list") {
    for (const [name, i] of Object.entries(IMPLEMENTATIONS))
      console.log(`${name.padEnd(22)} stage ${i.stage.padEnd(10)} ${i.summary}`);
    return 0;
  }
  if (sub !== "serve")
    throw new CliError(
      sub === undefined || sub === "--help" || sub === "-h" ? USAGE : `unknown subcommand "${sub}"\n\n${USAGE}`,
      sub === "--help" || sub === "-h" ? 0 : 2,
    );
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      step: { type: "string" },
      once: { type: "boolean" },
      "idle-exit-s": { type: "string" },
      threads: { type: "string" },
    },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new CliError(`give one implementation to serve\n\n${USAGE}`);
  const impl = implementation(name, "baton stage serve");
  const env = await stageEnv();
  const def = (await impl.load()).createStage({
    store: env.store,
    dataAccess: env.dataAccess,
    threads: numberFlag("threads", values.threads, 2, 1),
  });
  const face = await startServiceFace({
    stage: impl.stage,
    serviceVersion: def.version,
    probes: { bus: () => env.bus.ping(), store: () => env.store.ping() },
  });
  const options = {
    ...def,
    step: values.step ?? impl.stage,
    bus: env.bus,
    store: env.store,
    ledger: env.ledger,
    retry: env.retry,
    dataAccess: env.dataAccess,
    observer: face.observer,
  };
  process.stderr.write(
    `serving ${name} (stage ${impl.stage}) on step "${options.step}" over ${env.describe}; data from ${env.dataAccess.describe}; http ${face.http.url} (listening on ${face.http.listening})\n`,
  );
  try {
    if (values.once) {
      const deadline = Date.now() + numberFlag("idle-exit-s", values["idle-exit-s"], 60, 1) * 1000;
      const abort = new AbortController();
      const onTerm = () => abort.abort();
      process.once("SIGTERM", onTerm);
      let outcome: StageOutcome | null = null;
      await env.bus.ensureConsumer(options.step);
      while (!outcome && Date.now() < deadline && !abort.signal.aborted)
        outcome = await runStage({ ...options, signal: abort.signal, pullExpiresMs: 2000 });
      process.off("SIGTERM", onTerm);
      if (!outcome) return 0;
      process.stderr.write(`${outcome.kind}${"error" in outcome ? `: ${outcome.error.message}` : ""}\n`);
      return outcome.kind === "dead-lettered" ? 1 : 0;
    }
    await serveStage({ ...options, handleSignals: true }).done;
    return 0;
  } finally {
    await face.close();
    await env.close();
  }
}
