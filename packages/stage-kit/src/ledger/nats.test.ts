import { connectNats } from "../bus/nats.ts";
import { startNats } from "../testing/nats-server.ts";
import { runLedgerContract } from "./contract.ts";
import { NatsLedger } from "./nats.ts";

// Against a real nats-server: KV create() is what refuses the second writer.
runLedgerContract("nats", async () => {
  const server = await startNats();
  const nc = await connectNats(server.url);
  return {
    ledger: await NatsLedger.connect(nc),
    cleanup: async () => {
      await nc.close();
      await server.dispose();
    },
  };
});
