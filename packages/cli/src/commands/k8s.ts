// `baton k8s render <recipe> --out <dir>`: a kustomize overlay that deploys the recipe as it is, each
// step its own KEDA ScaledJob (its subject, its implementation, its NATS user), with the Job that
// creates every step's consumer. `kubectl apply -k <dir>` deploys it (packages/cli/src/k8s/render.ts).
import { isBatonError } from "@baton/contracts";
import { readRecipeFile } from "@baton/stage-registry";
import { CliError, parseCommandArgs } from "../args.ts";
import { OVERLAYS, type Overlay, renderOverlay } from "../k8s/render.ts";
import { parseStepResources } from "../k8s/resources.ts";
import { parseChoices } from "./run.ts";

const USAGE = `usage: baton k8s render <recipe.yaml> --out <dir> [options]

  --out <dir>             where the overlay goes (its nats-users.env, once made, is kept)
  --impl <step>=<name>    serve a step with another implementation of its stage (repeatable),
                          e.g. --impl finetune=finetune-last-layers
  --resources <step>=cpu=<q>,memory=<q>[,gpu=<n>]
                          what one step's pod asks for (repeatable); the overlay's default otherwise
  --overlay <name>        ${OVERLAYS.join(" | ")}: the component every stage pod gets (GPU nodes and the
                          CUDA image, or small requests and the local image); default: the base as it is
  --k8s <dir>             the folder with Baton's base/ and components/ (default: this checkout's k8s/)
  --trigger-rules <file>  deploy the retraining trigger with these rules (their recipes may run only
                          this recipe's steps); without it the overlay has no trigger

Then: kubectl apply -k <dir> (needs KEDA 2.19 and the base's credentials/s3.env).`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (sub !== "render") throw new CliError(`unknown subcommand "${sub}"\n\n${USAGE}`);
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      out: { type: "string" },
      impl: { type: "string", multiple: true },
      overlay: { type: "string" },
      k8s: { type: "string" },
      "trigger-rules": { type: "string" },
      resources: { type: "string", multiple: true },
    },
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`give one recipe file\n\n${USAGE}`);
  if (!values.out) throw new CliError(`--out <dir> is required: the folder the overlay is written to\n\n${USAGE}`);
  const overlay = values.overlay;
  if (overlay !== undefined && !(OVERLAYS as readonly string[]).includes(overlay))
    throw new CliError(`--overlay must be one of ${OVERLAYS.join(", ")}, got "${overlay}"`);
  try {
    const steps = (await readRecipeFile(file)).steps.map((s) => s.name);
    const resources = (() => {
      try {
        return parseStepResources(values.resources ?? [], steps);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    })();
    const r = await renderOverlay({
      recipeFile: file,
      out: values.out,
      choices: parseChoices(values.impl),
      resources,
      ...(overlay && { overlay: overlay as Overlay }),
      ...(values.k8s && { k8sDir: values.k8s }),
      ...(values["trigger-rules"] && { triggerRules: values["trigger-rules"] }),
    });
    for (const s of r.steps) console.log(`  step ${s.step.padEnd(20)} ${s.implementation} (stage ${s.stage})`);
    if (r.newPasswords.length > 0) console.log(`nats-users.env: new passwords for ${r.newPasswords.join(", ")}`);
    console.log(`wrote ${r.dir}; deploy with: kubectl apply -k ${r.dir}`);
    return 0;
  } catch (err) {
    if (isBatonError(err)) throw new CliError(err.message, 1);
    throw err;
  }
}
