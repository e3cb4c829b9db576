import { runBusContract } from "./contract.ts";
import { MemoryBus } from "./memory.ts";

runBusContract("memory", async (settings) => {
  const bus = new MemoryBus(settings);
  return { bus, cleanup: () => bus.close() };
});
