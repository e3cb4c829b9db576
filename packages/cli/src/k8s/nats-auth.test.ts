import { describe, expect, it } from "vitest";
import { natsAuthConf, natsPasswordVariable, natsUserProblems, natsUsers } from "./nats-auth.ts";

describe("NATS users of a relay", () => {
  it("one user per step between the run starters and MinIO, each with its password variable", () => {
    expect(natsUsers(["pretrain", "finetune-again"])).toEqual(["cli", "pretrain", "finetune-again", "minio"]);
    expect(natsPasswordVariable("finetune-again")).toBe("BATON_NATS_FINETUNE_AGAIN_PASSWORD");
    const conf = natsAuthConf("r", ["pretrain", "finetune-again"]);
    expect(conf).toContain(
      "{ user: finetune-again, password: $BATON_NATS_FINETUNE_AGAIN_PASSWORD, permissions: $FINETUNE_AGAIN }",
    );
    // the first step hands on to the second, the last one completes the run
    expect(conf.slice(conf.indexOf("PRETRAIN = {"), conf.indexOf("FINETUNE_AGAIN = {"))).toContain(
      '"baton.checkpoint.ready.finetune-again",',
    );
    expect(conf.slice(conf.indexOf("FINETUNE_AGAIN = {"), conf.indexOf("MINIO = {"))).toContain(
      '"baton.run.completed",',
    );
  });

  it("refuses step names that cannot each be a user: reserved, repeated, or sharing a variable", () => {
    expect(natsUserProblems(["cli"])).toEqual([
      'step "cli" is named like the NATS user of the run starters; rename the step',
    ]);
    expect(natsUserProblems(["a", "a"])).toEqual([
      'step "a" appears twice; each step needs its own name (its own consumer and NATS user)',
    ]);
    expect(natsUserProblems(["a-b", "a_b"])).toEqual([
      'steps "a-b" and "a_b" would share the password variable BATON_NATS_A_B_PASSWORD; rename one',
    ]);
    expect(() => natsAuthConf("r", ["minio"])).toThrow(
      /recipe "r": its steps cannot each have a NATS user: step "minio" is named like the NATS user of MinIO's notifications/,
    );
  });
});
