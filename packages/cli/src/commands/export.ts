// `baton export onnx <checkpoint-dir> --out <dir>`: the trained model as a serving stack loads it: an
// ONNX decoder with dynamic batch and sequence axes and a KV cache (inputs and outputs named as HF
// Optimum names them), config.json, generation_config.json, tokenizer.json and tokenizer_config.json,
// laid out as transformers.js expects (onnx/model.onnx). See packages/model/src/export/.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportServingFolder } from "@baton/model";
import { checkpointAt, openCheckpoint, stageEnv } from "@baton/runner";
import { CliError, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton export onnx <checkpoint> --out <dir>

  <checkpoint>      a model folder (model.safetensors, config.json, tokenizer.json), e.g. one that
                    \`baton train\` wrote, or a committed checkpoint's URI in the store
                    (s3://bucket/checkpoints/<run>/<n>-<step>/<attempt>/, from run.completed or the
                    report; S3_ENDPOINT / S3_BUCKET say where), downloaded and checked against its manifest
  --out <dir>       where the serving folder goes (onnx/model.onnx and the JSON files beside it)`;

export async function run(argv: string[]): Promise<number> {
  const [format, ...rest] = argv;
  if (format === undefined || format === "--help" || format === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (format !== "onnx") throw new CliError(`unknown export format "${format}"; Baton exports "onnx"\n\n${USAGE}`);
  const { values, positionals } = parseCommandArgs(rest, { out: { type: "string" } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new CliError(`give exactly one checkpoint folder, got ${positionals.length}\n\n${USAGE}`);
  if (!values.out) throw new CliError(`--out <dir> is required: the folder the serving files go to\n\n${USAGE}`);
  const checkpoint = positionals[0]!;
  const done = await exportFrom(checkpoint, values.out).catch((e: Error) => {
    throw new CliError(`cannot export ${checkpoint}: ${e.message}`, 1);
  });
  console.log(
    `wrote ${done.files.map((f) => `${done.dir}/${f}`).join(", ")} (model ${(done.modelBytes / 1e6).toFixed(1)} MB)`,
  );
  return 0;
}

/** A local folder as it is; a store URI downloaded (every file checked against the manifest) first. */
async function exportFrom(checkpoint: string, out: string) {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(checkpoint)) return exportServingFolder(checkpoint, out);
  const env = await stageEnv();
  const work = await mkdtemp(join(tmpdir(), "baton-export-"));
  try {
    const opened = await openCheckpoint(env.store, await checkpointAt(env.store, checkpoint), join(work, "checkpoint"));
    return await exportServingFolder(opened.dir, out);
  } finally {
    await env.close();
    await rm(work, { recursive: true, force: true });
  }
}
