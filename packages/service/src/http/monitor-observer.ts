import type { Phase, StageObserver, StageOutcome, WorkObserver } from "@baton/runner";
import type { FailureDisposition, StageMonitor } from "./stage-monitor.ts";

/**
 * Feeds a StageMonitor (and so /status, /metrics and /events) from the runner's hooks.
 * @example serveStage({ ...stage, observer: monitorObserver(monitor) })
 */
export function monitorObserver(monitor: StageMonitor): StageObserver {
  return {
    onWork(): WorkObserver {
      monitor.eventReceived();
      return {
        onEvent(event) {
          monitor.workStarted({
            runId: event.data.runId,
            step: event.data.pipeline[event.data.cursor]?.name ?? "",
            cursor: event.data.cursor,
            eventId: event.id,
          });
        },
        onProgress(p) {
          const loss = p.metrics?.["loss"];
          monitor.progress({ done: p.trainStep, total: p.totalSteps ?? 0, ...(loss !== undefined ? { loss } : {}) });
        },
        onPhase(r) {
          const direction = DIRECTION[r.phase];
          if (direction && r.bytes) monitor.bytesMoved(direction, r.bytes);
        },
        onEnd(outcome) {
          const failure = dispositionOf(outcome);
          if (failure) monitor.eventFailed({ disposition: failure, reason: reasonOf(outcome) });
          else monitor.stepFinished(outcome.durationMs);
        },
      };
    },
  };
}

// Which phases move checkpoint bytes, and which way.
const DIRECTION: Partial<Record<Phase, "download" | "upload">> = {
  download: "download",
  resume: "download",
  upload: "upload",
};

function dispositionOf(outcome: StageOutcome): FailureDisposition | undefined {
  if (outcome.kind === "retry") return "retry";
  if (outcome.kind === "dead-lettered") return "dead-lettered";
  if (outcome.kind === "interrupted") return "interrupted";
  return undefined;
}

function reasonOf(outcome: StageOutcome): string {
  if (outcome.kind === "retry" || outcome.kind === "dead-lettered")
    return `${outcome.error.code}: ${outcome.error.message}`;
  return "interrupted by SIGTERM: a resume snapshot was saved and the event returned to the bus for another worker";
}
