import type { Rand } from "./words.ts";
import { DOMAIN, GENERAL, pick, plural } from "./words.ts";

/** One general-English sentence from a small grammar. */
function generalSentence(r: Rand): string {
  const g = GENERAL;
  const np = () => (r() < 0.5 ? `the ${pick(r, g.adjectives)} ${pick(r, g.nouns)}` : `the ${pick(r, g.nouns)}`);
  const subject = () => (r() < 0.3 ? pick(r, g.names) : np());
  switch (Math.floor(r() * 8)) {
    case 0:
      return `${subject()} ${pick(r, g.verbs)} ${np()} ${pick(r, g.places)}.`;
    case 1:
      return `${subject()} ${pick(r, g.intransitive)} ${pick(r, g.adverbs)} ${pick(r, g.times)}.`;
    case 2:
      return `${np()} was ${pick(r, g.adjectives)}, and ${subject()} ${pick(r, g.intransitive)}.`;
    case 3:
      return `${pick(r, g.times)}, ${subject()} ${pick(r, g.verbs)} ${np()}.`;
    case 4:
      return `where is ${np()}? it is ${pick(r, g.places)}.`;
    case 5:
      return `${pick(r, g.names)} had ${2 + Math.floor(r() * 8)} ${plural(pick(r, g.nouns))} and ${pick(r, g.names)} had ${Math.floor(r() * 10)}.`;
    case 6:
      return `${subject()} said: i ${pick(r, g.verbs)} ${np()}.`;
    default:
      return `${subject()} ${pick(r, g.verbs)} ${np()} and ${pick(r, g.intransitive)}.`;
  }
}

/** One sentence about star charts and lantern-making. */
function domainSentence(r: Rand): string {
  const d = DOMAIN;
  const thing = () => `the ${pick(r, d.adjectives)} ${pick(r, d.nouns)}`;
  switch (Math.floor(r() * 6)) {
    case 0:
      return `${thing()} ${pick(r, d.verbs)} ${pick(r, d.substances)} when ${pick(r, d.stars)} rises.`;
    case 1:
      return `to make a ${pick(r, d.nouns)} lantern, temper ${pick(r, d.substances)} with ${pick(r, d.tools)}.`;
    case 2:
      return `${pick(r, d.stars)} and ${pick(r, d.stars)} align over ${thing()}.`;
    case 3:
      return `the chartwright ${pick(r, d.verbs)} ${thing()} by the light of ${pick(r, d.stars)}.`;
    case 4:
      return `a ${pick(r, d.nouns)} holds ${2 + Math.floor(r() * 7)} measures of ${pick(r, d.substances)}.`;
    default:
      return `${thing()} glows ${pick(r, d.adjectives)} under ${pick(r, d.stars)}, so the ${pick(r, d.nouns)} ${pick(r, d.verbs)} it.`;
  }
}

function paragraph(r: Rand, sentence: (r: Rand) => string): string {
  const n = 3 + Math.floor(r() * 5);
  // Some line breaks, so newline is in the character vocabulary (alpaca inputs follow a blank line).
  return Array.from({ length: n }, () => sentence(r)).reduce(
    (text, s) => (text ? text + (r() < 0.15 ? "\n" : " ") + s : s),
    "",
  );
}

/** `{"text"}` documents until `bytes` of text are written. */
export function generalDocuments(r: Rand, bytes: number): string[] {
  return documents(r, bytes, generalSentence);
}

export function domainDocuments(r: Rand, bytes: number): string[] {
  return documents(r, bytes, domainSentence);
}

function documents(r: Rand, bytes: number, sentence: (r: Rand) => string): string[] {
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    const p = paragraph(r, sentence);
    out.push(p);
    size += p.length + 1;
  }
  return out;
}
