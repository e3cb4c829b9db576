import { startNats } from "@baton/testing";
import { runBusContract } from "./contract.ts";
import { NatsBus } from "./nats.ts";

// Against a real nats-server (JetStream, file storage in a temp dir) on a free port.
runBusContract("nats", async (settings) => {
  const server = await startNats();
  const bus = await NatsBus.connect({ servers: server.url, settings });
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      await server.dispose();
    },
  };
});
