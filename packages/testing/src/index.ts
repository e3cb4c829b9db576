// Test services for Baton's integration tests: real nats-server and a real S3 server.
export { startTestServices, serviceEnv, ensureBucket, endpointOf } from "./services.ts";
export type { TestServices, TestServicesOptions, ServiceSource } from "./services.ts";
export { startNats, findNatsServerBinary } from "./nats-server.ts";
export type { LocalNats, StartNatsOptions } from "./nats-server.ts";
export { startS3 } from "./s3-server.ts";
export type { LocalS3, S3Endpoint, StartS3Options } from "./s3-server.ts";
export { dockerAnswers, dockerCandidates } from "./docker.ts";
export { freePort, waitForPort } from "./free-port.ts";
export { tsxNodeArgs } from "./tsx.ts";
export { BareS3 } from "./bare-s3.ts";
export { reapOnExit, exitWithParent } from "./child-process.ts";
