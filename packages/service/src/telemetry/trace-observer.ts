import { durableName } from "@baton/contracts";
import type { StageObserver, StageOutcome, WorkObserver } from "@baton/runner";
import type { Tracer } from "@opentelemetry/api";
import { StageTrace } from "./stage-trace.ts";

/**
 * Traces every delivery a runner handles: a new trace per stage's work, linked to the producer's span
 * (from the message's traceparent), with child spans receive, download, resume, train, upload, commit,
 * emit. Messages published during the work carry the current span's context, so the next stage links
 * to this one's emit span.
 * @example serveStage({ ...stage, observer: composeObservers(traceObserver(telemetry.tracer), monitorObserver(monitor)) })
 */
export function traceObserver(tracer: Tracer): StageObserver {
  return {
    onWork(work): WorkObserver {
      const stageTrace = StageTrace.start(tracer, {
        stage: work.stage,
        step: work.step,
        subject: work.subject,
        consumer: durableName(work.step),
        deliveryCount: work.deliveryCount,
        receivedAt: work.receivedAt,
        headers: work.headers,
      });
      return {
        onEvent(event) {
          stageTrace.identify({ runId: event.data.runId, cursor: event.data.cursor, eventId: event.id });
        },
        phase: (phase, fn) => stageTrace.phase(phase, () => fn()),
        headers: () => stageTrace.headersFor() as Record<string, string>,
        traceId: () => stageTrace.traceId,
        onEnd(outcome) {
          stageTrace.root.setAttribute("baton.outcome", outcome.kind);
          stageTrace.end(failureOf(outcome));
        },
      };
    },
  };
}

/** The error that ended the work, or undefined when it committed (or found the step committed) or was interrupted. */
function failureOf(outcome: StageOutcome): unknown {
  if (outcome.kind === "retry" || outcome.kind === "dead-lettered") return outcome.error;
  return undefined;
}
