import { stageContract, taskFixture } from "@baton/stage-contract";
import { createStage } from "./index.ts";

stageContract({ stage: "finetune", create: () => createStage({ threads: 1 }), fixture: taskFixture });
