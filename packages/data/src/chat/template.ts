import { Template } from "@huggingface/jinja";
import { DatasetError } from "../errors.ts";
import type { ChatMessage } from "../read/formats.ts";

/**
 * Baton's chat template (Jinja, as HF stores it in tokenizer_config.json "chat_template"):
 *   <|system|>…<|end|>  <|user|>…<|end|>  <|assistant|>…<|endoftext|>
 * An assistant turn ends with EOS, so a model trained on it stops generating by itself. Role markers are
 * single special tokens, so a char-level model spends one token on each. The template renders every
 * prefix of a conversation as a prefix of the whole, which is what loss masking relies on.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}" +
  "{{ '<|' + message['role'] + '|>' + message['content'] }}" +
  "{% if message['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ '<|end|>' }}{% endif %}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

const compiled = new Map<string, Template>();

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  bosToken: string;
  eosToken: string;
}

/** Renders a chat template exactly as HF transformers' apply_chat_template does (same Jinja variables). */
export function renderChat(template: string, messages: readonly ChatMessage[], options: RenderOptions): string {
  let t = compiled.get(template);
  if (!t) {
    try {
      t = new Template(template);
    } catch (e) {
      throw new DatasetError(`chat template does not parse as Jinja (${(e as Error).message})`);
    }
    compiled.set(template, t);
  }
  return t.render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? false,
    bos_token: options.bosToken,
    eos_token: options.eosToken,
  });
}

/** tokenizer_config.json for a checkpoint: HF reads chat_template and the special tokens from it. */
export function tokenizerConfigFor(
  tokenizer: { specialText: { bos: string; eos: string; pad: string } },
  options: { template?: string; modelMaxLength?: number } = {},
): Record<string, unknown> {
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: tokenizer.specialText.bos,
    eos_token: tokenizer.specialText.eos,
    pad_token: tokenizer.specialText.pad,
    ...(options.modelMaxLength !== undefined && { model_max_length: options.modelMaxLength }),
    chat_template: options.template ?? DEFAULT_CHAT_TEMPLATE,
  };
}

/** The chat template stored with a checkpoint, or the default when it has none. */
export function chatTemplateOf(tokenizerConfig: Record<string, unknown> | undefined): string {
  const t = tokenizerConfig?.["chat_template"];
  return typeof t === "string" && t.length > 0 ? t : DEFAULT_CHAT_TEMPLATE;
}
