// Public surface of @baton/bus: the event bus (NATS JetStream, in-memory), trace propagation through events, and KV state.
export type {
  Bus,
  BusSettings,
  Delivery,
  DurableConsumer,
  Observed,
  PublishAck,
  PublishOptions,
  Unwatch,
} from "./bus.ts";
export { DEFAULT_BUS_SETTINGS } from "./bus.ts";
export type { Versioned } from "./kv-state.ts";
export { KvState } from "./kv-state.ts";
export { MemoryBus } from "./memory.ts";
export type { NatsAuth, NatsBusOptions } from "./nats.ts";
export { connectNats, NatsBus, natsAuthFromEnv } from "./nats.ts";
export type { HeaderCarrier } from "./propagation.ts";
export { extractTraceContext, injectTraceContext, traceCarrierOf, withTraceAttributes } from "./propagation.ts";
export { publishEvent, subjectOf } from "./publish.ts";
// An abortable wait, as the bus's own redelivery loops use it.
export { sleep } from "./shared.ts";
