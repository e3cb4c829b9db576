export { CliError, numberFlag, parseCommandArgs } from "./args.ts";
export { type Command, type CommandModule, commands } from "./commands.ts";
export { natsAuthConf, natsPasswordVariable, natsUserProblems, natsUsers } from "./k8s/nats-auth.ts";
export { OVERLAYS, type Overlay, type RenderedOverlay, type RenderOptions, renderOverlay } from "./k8s/render.ts";
export { consumersJob, scaledJobName, stageScaledJob } from "./k8s/stage-job.ts";
