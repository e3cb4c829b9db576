import { runLedgerContract } from "./contract.ts";
import { MemoryLedger } from "./memory.ts";

runLedgerContract("memory", async () => ({ ledger: new MemoryLedger(), cleanup: async () => {} }));
