// Test services for Baton's integration tests: real nats-server and a real S3 server.

export { BareS3 } from "./bare-s3.ts";
export { exitWithParent, reapOnExit } from "./child-process.ts";
export { dockerAnswers, dockerCandidates } from "./docker.ts";
export { freePort, waitForPort } from "./free-port.ts";
export type { LocalNats, StartNatsOptions } from "./nats-server.ts";
export { findNatsServerBinary, startNats } from "./nats-server.ts";
export type { LocalS3, S3Endpoint, StartS3Options } from "./s3-server.ts";
export { startS3 } from "./s3-server.ts";
export type { ServiceSource, TestServices, TestServicesOptions } from "./services.ts";
export { endpointOf, ensureBucket, serviceEnv, startTestServices } from "./services.ts";
export { tsxNodeArgs } from "./tsx.ts";
