// `baton export onnx <checkpoint-dir> --out <dir>`: the trained model as a serving stack loads it: an
// ONNX decoder with dynamic batch and sequence axes and a KV cache (inputs and outputs named as HF
// Optimum names them), config.json, generation_config.json, tokenizer.json and tokenizer_config.json,
// laid out as transformers.js expects (onnx/model.onnx). See packages/model/src/export/.
import { exportServingFolder } from "@baton/model";
import { CliError, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton export onnx <checkpoint-dir> --out <dir>

  <checkpoint-dir>  a model folder (model.safetensors, config.json, tokenizer.json), e.g. one that
                    \`baton train\` wrote or a checkpoint opened from the store
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
  if (positionals.length !== 1) throw new CliError(`give exactly one checkpoint folder, got ${positionals.length}\n\n${USAGE}`);
  if (!values.out) throw new CliError(`--out <dir> is required: the folder the serving files go to\n\n${USAGE}`);
  const done = await exportServingFolder(positionals[0]!, values.out).catch((e: Error) => {
    throw new CliError(`cannot export ${positionals[0]}: ${e.message}`, 1);
  });
  console.log(`wrote ${done.files.map((f) => `${done.dir}/${f}`).join(", ")} (model ${(done.modelBytes / 1e6).toFixed(1)} MB)`);
  return 0;
}
