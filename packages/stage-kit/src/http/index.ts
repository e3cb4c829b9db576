// The HTTP face of every Baton service: health, readiness, Prometheus metrics, status, progress events.
export { createStageApp, DEFAULT_MAX_EVENT_STREAMS } from "./stage-app.ts";
export type { ReadinessProbe, StageAppOptions } from "./stage-app.ts";
export { serveStageApp, DEFAULT_HTTP_HOST, DEFAULT_MAX_CONNECTIONS } from "./serve.ts";
export type { ServedApp, ServeOptions } from "./serve.ts";
export { StageMonitor } from "./stage-monitor.ts";
export type { StageStatus, ProgressEvent, ProgressListener, FailureDisposition } from "./stage-monitor.ts";
export { MetricsRegistry, Counter, Gauge, Histogram } from "./metrics.ts";
export type { Labels } from "./metrics.ts";
export { monitorObserver } from "./monitor-observer.ts";
export { startServiceFace, DEFAULT_HTTP_PORT } from "./service-face.ts";
export type { ServiceFace, ServiceFaceOptions } from "./service-face.ts";
