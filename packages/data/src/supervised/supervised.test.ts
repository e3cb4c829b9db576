import { describe, expect, it } from "vitest";
import { chatTemplateOf, DEFAULT_CHAT_TEMPLATE, renderChat, tokenizerConfigFor } from "../chat/template.ts";
import type { ChatMessage } from "../read/formats.ts";
import { testCodec } from "../test-codec.ts";
import { alpacaToMessages, chatExample, chatPromptIds, promptCompletionExample } from "./examples.ts";
import { packSupervised, SupervisedBatches, supervisedBatch, supervisedEvalBatches } from "./packing.ts";

const codec = testCodec("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ:?.,\n0123456789=+");
const trained = (ex: { ids: number[]; target: Uint8Array }) =>
  codec.decode(ex.ids.filter((_, i) => ex.target[i] === 1));

describe("supervised examples", () => {
  it("trains the completion and its EOS, not the prompt", () => {
    const ex = promptCompletionExample(codec, { prompt: "2+2=", completion: "4", where: "t.jsonl:1" });
    expect(codec.decode(ex.ids)).toBe("2+2=4<|endoftext|>");
    expect([...ex.target]).toEqual([0, 0, 0, 0, 1, 1]);
    expect(ex.where).toBe("t.jsonl:1");
  });

  it("renders the chat template and trains assistant turns (with EOS) only", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "bye?" },
      { role: "assistant", content: "bye" },
    ];
    const text = renderChat(DEFAULT_CHAT_TEMPLATE, messages, { bosToken: "<|bos|>", eosToken: "<|endoftext|>" });
    expect(text).toBe(
      "<|system|>be brief<|end|><|user|>hi<|end|><|assistant|>hello<|endoftext|><|user|>bye?<|end|><|assistant|>bye<|endoftext|>",
    );
    const ex = chatExample(codec, messages, { where: "c.jsonl:4" });
    expect(codec.decode(ex.ids)).toBe(text);
    expect(trained(ex)).toBe("hello<|endoftext|>bye<|endoftext|>");
  });

  it("builds the sampling prompt with the same template, ending at the assistant marker", () => {
    const messages = alpacaToMessages({ instruction: "Reverse it", input: "abc", output: "cba" });
    expect(messages).toEqual([
      { role: "user", content: "Reverse it\n\nabc" },
      { role: "assistant", content: "cba" },
    ]);
    const prompt = chatPromptIds(codec, messages.slice(0, 1));
    const ex = chatExample(codec, messages);
    expect(ex.ids.slice(0, prompt.length)).toEqual(prompt); // training sees exactly the sampling prompt
    expect(codec.decode(prompt)).toBe("<|user|>Reverse it\n\nabc<|end|><|assistant|>");
    expect(alpacaToMessages({ instruction: "Say hi", input: " ", output: "hi" })[0]!.content).toBe("Say hi");
  });

  it("refuses a template whose prefixes do not render as prefixes, and a broken template", () => {
    const counting = "{{ messages|length }}{% for m in messages %}{{ m['content'] }}{% endfor %}";
    expect(() =>
      chatExample(
        codec,
        [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
        ],
        { template: counting, where: "x.jsonl:2" },
      ),
    ).toThrow(/x\.jsonl:2: the chat template does not render message 1/);
    expect(() => renderChat("{% for %}", [], { bosToken: "", eosToken: "" })).toThrow(
      /chat template does not parse as Jinja/,
    );
  });

  it("stores the template in tokenizer_config.json and reads it back", () => {
    const cfg = tokenizerConfigFor(codec, { modelMaxLength: 64 });
    expect(cfg).toMatchObject({
      eos_token: "<|endoftext|>",
      pad_token: "<|pad|>",
      model_max_length: 64,
      chat_template: DEFAULT_CHAT_TEMPLATE,
    });
    expect(chatTemplateOf(cfg)).toBe(DEFAULT_CHAT_TEMPLATE);
    expect(chatTemplateOf({})).toBe(DEFAULT_CHAT_TEMPLATE);
  });
});

describe("packing and batches", () => {
  const examples = Array.from({ length: 10 }, (_, i) =>
    promptCompletionExample(codec, {
      prompt: `q${i}:`,
      completion: "x".repeat(1 + (i % 4)),
      where: `f.jsonl:${i + 1}`,
    }),
  );

  it("one example per row: padding is masked, positions count from 0", () => {
    const rows = packSupervised(examples, { blockSize: 12, padId: codec.special.pad });
    expect(rows.ids).toHaveLength(10);
    const b = supervisedBatch(rows, { seed: 1, step: 0, batchSize: 10 });
    let maskSum = 0;
    for (let r = 0; r < 10; r++) {
      const row = Array.from(b.x.subarray(r * 12, r * 12 + 12));
      const mask = Array.from(b.lossMask.subarray(r * 12, r * 12 + 12));
      const ys = Array.from(b.y.subarray(r * 12, r * 12 + 12));
      const targets = codec.decode(ys.filter((_, t) => mask[t] === 1));
      expect(targets).toMatch(/^x+<\|endoftext\|>$/);
      maskSum += mask.reduce((a, v) => a + v, 0);
      expect(row[0]).not.toBe(codec.special.pad);
    }
    expect(maskSum).toBe(examples.reduce((n, e) => n + e.target.reduce((a, v) => a + v, 0), 0));
  });

  it("packs several examples per row with segment ids; no target crosses a boundary", () => {
    const rows = packSupervised(examples, { blockSize: 23, mode: "packed", padId: codec.special.pad });
    expect(rows.ids.length).toBeLessThan(6);
    const batches = [...supervisedEvalBatches(rows, 4)];
    let maskSum = 0;
    for (const b of batches) {
      for (let i = 0; i < b.x.length; i++) {
        if (b.lossMask[i] === 1) {
          expect(b.segmentIds[i]).toBeGreaterThan(0);
          if (i % 23 > 0 && b.segmentIds[i - 1] !== b.segmentIds[i]) expect(b.positions[i]).toBe(0);
        }
        if (i % 23 > 0 && b.segmentIds[i] !== b.segmentIds[i - 1] && b.segmentIds[i] !== 0)
          expect(b.positions[i]).toBe(0);
        maskSum += b.lossMask[i]!;
      }
    }
    expect(maskSum).toBe(examples.reduce((n, e) => n + e.target.reduce((a, v) => a + v, 0), 0));
  });

  it("batch order is a pure function of (seed, step) and covers every row once per epoch", () => {
    const rows = packSupervised(examples, { blockSize: 12, padId: codec.special.pad });
    expect(supervisedBatch(rows, { seed: 3, step: 4, batchSize: 5 })).toEqual(
      supervisedBatch(rows, { seed: 3, step: 4, batchSize: 5 }),
    );
    const firstTokens = new Set<string>();
    for (const step of [0, 1]) {
      const b = supervisedBatch(rows, { seed: 3, step, batchSize: 5 });
      for (let r = 0; r < 5; r++) firstTokens.add(codec.decode(b.x.subarray(r * 12, r * 12 + 3)));
    }
    expect(firstTokens.size).toBe(10);
  });

  it("names an over-long example, or skips and counts it", () => {
    const long = [
      ...examples,
      promptCompletionExample(codec, { prompt: "a".repeat(30), completion: "b", where: "f.jsonl:11" }),
    ];
    expect(() => packSupervised(long, { blockSize: 12, padId: 2 })).toThrow(
      /f\.jsonl:11: example is 32 tokens, over blockSize \+ 1 = 13/,
    );
    const told: number[] = [];
    const rows = packSupervised(long, { blockSize: 12, padId: 2, policy: "skip", onSkip: (i) => told.push(i) });
    expect(rows.skipped).toBe(1);
    expect(rows.errors[0]).toMatch(/^f\.jsonl:11:/);
    expect(told).toEqual([examples.length]); // the index of the dropped example, for its dataset's count
  });

  it("serves the trainer: shuffled train batches and fixed, cycling val batches", () => {
    const rows = packSupervised(examples.slice(0, 7), { blockSize: 12, padId: codec.special.pad });
    const val = packSupervised(examples.slice(7), { blockSize: 12, padId: codec.special.pad });
    const source = new SupervisedBatches(rows, val, 2);
    expect(source.valBatches).toBe(2);
    expect(source.val(0)).toEqual(source.val(2));
    expect(source.val(1).x.subarray(12)).toEqual(new Int32Array(12)); // the last batch is padded with empty rows
    expect(
      source
        .val(1)
        .lossMask.subarray(12)
        .every((v) => v === 0),
    ).toBe(true);
    expect(source.train(5, 9)).toEqual(supervisedBatch(rows, { seed: 5, step: 9, batchSize: 2 }));
    expect(() => new SupervisedBatches(rows, packSupervised(examples, { blockSize: 20, padId: 2 }), 2)).toThrow(
      /blockSize 12 but val rows 20/,
    );
  });
});
