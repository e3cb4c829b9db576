// Who may say what on the bus, for the steps of one relay: nats-server's authorization file
// (infra/nats-auth.conf is this function's output for the demo recipe; tests/k8s checks they agree).
// One user per step, named like the step: it consumes its own step's events, reports on its own step,
// writes the ledger, and hands on to the NEXT step only (or completes the run, for the last step).
// Every subject comes from the contracts' subjects module, so a renamed subject renames the permission.
import { durableName, KV_BUCKETS, STREAM, subjects } from "@baton/contracts";

/** The users every deployment has besides one per step. */
export const STARTER_USER = "cli";
export const MINIO_USER = "minio";

/** The environment variable nats-server reads a user's password from (nats-auth.conf references it). */
export function natsPasswordVariable(user: string): string {
  return `BATON_NATS_${user.toUpperCase().replace(/-/g, "_")}_PASSWORD`;
}

/** Every NATS user of a relay of these steps, in the order the file lists them. */
export function natsUsers(steps: readonly string[]): string[] {
  return [STARTER_USER, ...steps, MINIO_USER];
}

/** Why these step names cannot each be a NATS user of their own ([] when they can). */
export function natsUserProblems(steps: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const step of steps) {
    const variable = natsPasswordVariable(step);
    const other = seen.get(variable);
    if (step === STARTER_USER || step === MINIO_USER)
      problems.push(
        `step "${step}" is named like the NATS user ${step === STARTER_USER ? "of the run starters" : "of MinIO's notifications"}; rename the step`,
      );
    else if (other === step)
      problems.push(`step "${step}" appears twice; each step needs its own name (its own consumer and NATS user)`);
    else if (other !== undefined)
      problems.push(`steps "${other}" and "${step}" would share the password variable ${variable}; rename one`);
    seen.set(variable, step);
  }
  return problems;
}

const HEADER = `# Who may say what on the bus (included by nats.conf). One user per service; passwords come from the
# server's environment, never from here:
#   BATON_NATS_CLI_PASSWORD      the run starters: \`baton run\` / \`baton status\`, the trigger, the web app
#   BATON_NATS_<STEP>_PASSWORD   one stage service per step of the deployed relay ('-' in a step name is '_')
#   BATON_NATS_MINIO_PASSWORD    MinIO's bucket notifications (baton.dataset.updated.minio only)
# nats-server reads a referenced variable as a config value: give passwords that start with a letter
# and hold letters and digits only (e.g. "p$(openssl rand -hex 24)").
# A stage may consume its own step's events, report on its own step (started, progress, failed,
# dead letters), write the ledger, and hand on to the NEXT step only. It cannot start a run, publish
# another step's checkpoint.ready, or complete a run it does not end. Every client also needs its
# JetStream API calls ($JS.API.*), its acks ($JS.ACK.*), the KV subjects of the ledger ($KV.*) and
# replies on its inbox (_INBOX.>).`;

/** The authorization file for a relay of `steps` (in recipe order) of the recipe named `recipe`. */
export function natsAuthConf(recipe: string, steps: readonly string[]): string {
  const problems = natsUserProblems(steps);
  if (problems.length > 0)
    throw new Error(`recipe "${recipe}": its steps cannot each have a NATS user: ${problems.join("; ")}`);
  const relay = wrap([...steps, subjects.runCompleted().replace(/^baton\./, "")].join(" -> "), "#   ");
  const lines = [
    HEADER,
    `# Made by natsAuthConf (packages/cli/src/k8s/nats-auth.ts; \`baton k8s render\` writes one for any recipe)`,
    `# for the steps of recipe "${recipe}":`,
    ...relay,
    "",
    "STARTER = {",
    `  publish: [${[subjects.checkpointReady("STEP").replace(/STEP$/, ">"), subjects.datasetUpdated("NAME").replace(/NAME$/, ">"), subjects.feedbackReady(), "$JS.API.>"].map(quote).join(", ")}]`,
    `  subscribe: ["_INBOX.>"]`,
    "}",
    "",
    "# What every stage may do whatever its step: read the stream and the KV buckets' state, write the ledger.",
  ];
  steps.forEach((step, i) => {
    const next = steps[i + 1];
    lines.push(...stepBlock(step, next === undefined ? subjects.runCompleted() : subjects.checkpointReady(next)), "");
  });
  lines.push(
    `${block(MINIO_USER)} = {`,
    `  publish: [${quote(subjects.datasetUpdated("minio"))}]`,
    `  subscribe: ["_INBOX.>"]`,
    "}",
    "",
    "authorization {",
    "  users = [",
    ...natsUsers(steps).map(
      (user) =>
        `    { user: ${user}, password: $${natsPasswordVariable(user)}, permissions: $${user === STARTER_USER ? "STARTER" : block(user)} }`,
    ),
    "  ]",
    "}",
    "",
  );
  return lines.join("\n");
}

function stepBlock(step: string, handOn: string): string[] {
  const durable = durableName(step);
  const { ledger, emitted, latest } = KV_BUCKETS;
  const rows = [
    [subjects.stageStarted(step), subjects.stageProgress(step), subjects.stageFailed(step), subjects.deadLetter(step)],
    [handOn],
    [
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.*",
      `$JS.API.STREAM.CREATE.${STREAM}`,
      `$JS.API.STREAM.CREATE.KV_${ledger}`,
      `$JS.API.STREAM.CREATE.KV_${latest}`,
      `$JS.API.STREAM.CREATE.KV_${emitted}`,
    ],
    [
      `$JS.API.CONSUMER.INFO.${STREAM}.${durable}`,
      `$JS.API.CONSUMER.CREATE.${STREAM}.${durable}`,
      `$JS.API.CONSUMER.CREATE.${STREAM}.${durable}.>`,
    ],
    [
      `$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.${durable}`,
      `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${durable}`,
      `$JS.ACK.${STREAM}.${durable}.>`,
    ],
    [
      `$KV.${ledger}.>`,
      `$KV.${emitted}.>`,
      `$JS.API.DIRECT.GET.KV_${emitted}.>`,
      `$JS.API.STREAM.MSG.GET.KV_${emitted}`,
      `$KV.${latest}.*.${step}`,
      `$JS.API.DIRECT.GET.KV_${ledger}.>`,
      `$JS.API.DIRECT.GET.KV_${latest}.>`,
      `$JS.API.STREAM.MSG.GET.KV_${ledger}`,
      `$JS.API.STREAM.MSG.GET.KV_${latest}`,
    ],
  ];
  return [
    `${block(step)} = {`,
    "  publish: [",
    ...rows.map((r) => `    ${r.map(quote).join(", ")},`),
    "  ]",
    `  subscribe: ["_INBOX.>"]`,
    "}",
  ];
}

/** The name of a user's permission block: the user upper-cased, '-' as '_' (STARTER for the run starters). */
function block(user: string): string {
  return user.toUpperCase().replace(/-/g, "_");
}

const quote = (s: string): string => JSON.stringify(s);

function wrap(text: string, prefix: string, width = 100): string[] {
  const out: string[] = [];
  let line = prefix;
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > width && line.trim() !== "#") {
      out.push(line.trimEnd());
      line = `${prefix}  `;
    }
    line += `${word} `;
  }
  out.push(line.trimEnd());
  return out;
}
