import { DEFAULT_CHAT_TEMPLATE, renderChat } from "../chat/template.ts";
import type { TextCodec } from "../codec.ts";
import { DatasetError } from "../errors.ts";
import type { AlpacaRecord, ChatMessage } from "../read/formats.ts";

/**
 * A tokenised supervised example. target[i] = 1 means ids[i] is trained as the prediction made from
 * ids[0..i-1]: completion / assistant tokens and the EOS that ends them. Everything else only conditions.
 */
export interface SupervisedExample {
  ids: number[];
  target: Uint8Array;
  where: string;
}

function build(pieces: Array<{ ids: number[]; train: boolean }>, where: string): SupervisedExample {
  const ids: number[] = [];
  const flags: number[] = [];
  for (const p of pieces) {
    for (const id of p.ids) {
      ids.push(id);
      flags.push(p.train ? 1 : 0);
    }
  }
  return { ids, target: Uint8Array.from(flags), where };
}

/**
 * prompt + completion + EOS. The prompt is encoded on its own, as it is at sampling time, so the model
 * learns to continue exactly the ids it will be given.
 */
export function promptCompletionExample(
  tokenizer: TextCodec,
  record: { prompt: string; completion: string; where?: string },
): SupervisedExample {
  return build(
    [
      { ids: tokenizer.encode(record.prompt), train: false },
      { ids: [...tokenizer.encode(record.completion), tokenizer.special.eos], train: true },
    ],
    record.where ?? "example",
  );
}

/** Alpaca -> chat: the user turn is the instruction, then the input after a blank line when present. */
export function alpacaToMessages(record: Pick<AlpacaRecord, "instruction" | "input" | "output">): ChatMessage[] {
  const user = record.input.trim() ? `${record.instruction}\n\n${record.input}` : record.instruction;
  return [
    { role: "user", content: user },
    { role: "assistant", content: record.output },
  ];
}

/**
 * A conversation rendered with the chat template; assistant turns (and the EOS the template puts after
 * them) are targets. Spans come from rendering prefixes: the text an assistant turn adds after
 * `render(previous, addGenerationPrompt)`. Training and sampling (chatPromptIds) share renderChat.
 */
export function chatExample(
  tokenizer: TextCodec,
  messages: readonly ChatMessage[],
  options: { template?: string; where?: string } = {},
): SupervisedExample {
  const template = options.template ?? DEFAULT_CHAT_TEMPLATE;
  const where = options.where ?? "conversation";
  const render = (upTo: number, gen: boolean) =>
    renderChat(template, messages.slice(0, upTo), {
      addGenerationPrompt: gen,
      bosToken: tokenizer.specialText.bos,
      eosToken: tokenizer.specialText.eos,
    });
  const pieces: Array<{ ids: number[]; train: boolean }> = [];
  let done = "";
  const take = (text: string, train: boolean, i: number) => {
    if (!text.startsWith(done)) {
      throw new DatasetError(
        `${where}: the chat template does not render message ${i} after the text of the messages before it; loss masking needs a template whose renderings of prefixes are prefixes`,
        where,
      );
    }
    const piece = text.slice(done.length);
    if (piece.length > 0) pieces.push({ ids: tokenizer.encode(piece), train });
    done = text;
  };
  messages.forEach((m, i) => {
    if (m.role === "assistant") take(render(i, true), false, i);
    take(render(i + 1, false), m.role === "assistant", i);
  });
  return build(pieces, where);
}

/** The sampling-time prompt: the conversation so far and the assistant marker; generate until EOS. */
export function chatPromptIds(
  tokenizer: TextCodec,
  messages: readonly ChatMessage[],
  options: { template?: string } = {},
): number[] {
  const text = renderChat(options.template ?? DEFAULT_CHAT_TEMPLATE, messages, {
    addGenerationPrompt: true,
    bosToken: tokenizer.specialText.bos,
    eosToken: tokenizer.specialText.eos,
  });
  return tokenizer.encode(text);
}
