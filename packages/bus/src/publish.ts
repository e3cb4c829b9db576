import { type BatonEvent, createEvent, type EventType, type NewEvent, subjectFor } from "@baton/contracts";
import type { Bus, PublishAck } from "./bus.ts";

/**
 * The subject an event belongs on, read from the event itself: checkpoint.ready goes to the step at
 * its cursor, stage.* to its step, dataset.updated to its dataset, the rest to their fixed subject.
 */
export function subjectOf(event: BatonEvent): string {
  switch (event.type) {
    case "dev.baton.checkpoint.ready": {
      const step = event.data.pipeline[event.data.cursor];
      if (!step)
        throw new Error(
          `event ${event.id}: cursor ${event.data.cursor} is past the end of its pipeline (${event.data.pipeline.length} steps); emit run.completed instead`,
        );
      return subjectFor(event.type, step.name);
    }
    case "dev.baton.stage.started":
    case "dev.baton.stage.progress":
    case "dev.baton.stage.failed":
      return subjectFor(event.type, event.data.step);
    case "dev.baton.dataset.updated":
      return subjectFor(event.type, event.data.dataset);
    case "dev.baton.run.completed":
    case "dev.baton.feedback.ready":
      return subjectFor(event.type, "");
  }
}

/** Builds, validates and publishes an event on its subject (for producers outside the runner: CLI, feedback app, bucket notifications). */
export async function publishEvent<T extends EventType>(
  bus: Bus,
  e: NewEvent<T>,
  headers?: Record<string, string>,
): Promise<PublishAck & { event: BatonEvent<T>; subject: string }> {
  const event = createEvent(e);
  const any = event as unknown as BatonEvent; // the generic T narrows to one member of the union
  const subject = subjectOf(any);
  const ack = await bus.publish(subject, any, headers ? { headers } : {});
  return { ...ack, event, subject };
}
