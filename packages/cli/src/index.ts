export { commands, type Command, type CommandModule } from "./commands.ts";
export { CliError, parseCommandArgs, numberFlag } from "./args.ts";
export { natsAuthConf, natsPasswordVariable, natsUsers, natsUserProblems } from "./k8s/nats-auth.ts";
export { consumersJob, scaledJobName, stageScaledJob } from "./k8s/stage-job.ts";
export { renderOverlay, OVERLAYS, type Overlay, type RenderOptions, type RenderedOverlay } from "./k8s/render.ts";
