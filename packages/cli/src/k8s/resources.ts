// What a rendered step's pod asks for, when the step needs other than the overlay's default (a
// pretrain step that wants more memory than a finetune): `--resources <step>=cpu=4,memory=16Gi,gpu=1`.
// Such a ScaledJob carries the label below, and the overlays' components leave its resources alone.

export interface PodResources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

/** Every stage pod's resources unless an overlay patches them (cpu-dev: smaller; gpu: one GPU). */
export const STAGE_RESOURCES: PodResources = { requests: { cpu: "2", memory: "4Gi" }, limits: { memory: "8Gi" } };

/** The label that tells k8s/components/* a ScaledJob's resources were chosen for its step. */
export const OWN_RESOURCES_LABEL = "baton.dev/resources";

const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const KEYS = ["cpu", "memory", "gpu"] as const;

/** `<step>=cpu=<q>,memory=<q>[,gpu=<n>]` flags -> step -> resources (memory is both request and limit). */
export function parseStepResources(flags: readonly string[], steps: readonly string[]): Record<string, PodResources> {
  const out: Record<string, PodResources> = {};
  for (const flag of flags) {
    const at = flag.indexOf("=");
    const step = at > 0 ? flag.slice(0, at) : "";
    const where = `--resources ${flag}`;
    if (!steps.includes(step))
      throw new Error(
        `${where}: the recipe has no step "${step}" (steps: ${steps.join(", ")}); write <step>=cpu=4,memory=16Gi[,gpu=1]`,
      );
    const values: Partial<Record<(typeof KEYS)[number], string>> = {};
    for (const pair of flag.slice(at + 1).split(",")) {
      const [key, value] = pair.split("=") as [string, string | undefined];
      if (!(KEYS as readonly string[]).includes(key))
        throw new Error(`${where}: unknown resource "${key}"; give ${KEYS.join(", ")}`);
      if (!value || !QUANTITY.test(value) || (key === "gpu" && !/^[1-9]\d*$/.test(value)))
        throw new Error(
          `${where}: ${key}=${value ?? ""} is not a ${key === "gpu" ? "whole number of GPUs" : "Kubernetes quantity (e.g. 500m, 2, 16Gi)"}`,
        );
      values[key as (typeof KEYS)[number]] = value;
    }
    if (!values.cpu || !values.memory) throw new Error(`${where}: give both cpu and memory (and gpu for a GPU step)`);
    out[step] = {
      requests: { cpu: values.cpu, memory: values.memory },
      limits: { memory: values.memory, ...(values.gpu && { "nvidia.com/gpu": values.gpu }) },
    };
  }
  return out;
}
