/**
 * Word lists for the demo data. Everything is lowercase ASCII so one small character vocabulary,
 * built from the general corpus, covers every demo file.
 */

export type Rand = () => number;

export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** General English: a few hundred common words, enough for varied but predictable text. */
export const GENERAL = {
  nouns: ["cat", "dog", "bird", "fox", "horse", "pupil", "farmer", "teacher", "baker", "sailor", "king", "queen", "boy", "girl", "miller", "weaver", "friend", "river", "tree", "house", "garden", "road", "hill", "field", "boat", "box", "bell", "book", "letter", "window", "door", "table", "chair", "apple", "bread", "cake", "cup", "lamp", "stone", "flower", "forest", "village", "city", "market", "bridge", "church", "wheel", "wagon", "basket", "coat", "hat", "shoe", "song", "story", "storm", "cloud", "sun", "moon", "rain", "snow", "zebra", "puzzle", "jar", "quilt"],
  adjectives: ["old", "young", "small", "big", "red", "green", "blue", "quiet", "loud", "happy", "sad", "kind", "brave", "tired", "warm", "cold", "bright", "dark", "wet", "dry", "soft", "hard", "clean", "busy", "gentle", "strong", "little", "tall", "short", "slow", "lazy", "dizzy"],
  verbs: ["saw", "found", "took", "carried", "washed", "painted", "opened", "closed", "watched", "followed", "helped", "liked", "pushed", "pulled", "cleaned", "fixed", "sold", "bought", "made", "held"],
  intransitive: ["slept", "ran", "sang", "walked", "waited", "laughed", "rested", "played", "worked", "jumped", "smiled", "listened"],
  places: ["by the river", "in the garden", "on the hill", "near the bridge", "at the market", "under the tree", "in the village", "on the road", "in the field", "by the door", "at home", "in the city"],
  times: ["in the morning", "at night", "after lunch", "before dinner", "on monday", "in the spring", "every day", "in the evening", "last week", "at noon"],
  names: ["anna", "ben", "clara", "david", "emma", "frank", "grace", "henry", "ivy", "jack", "lucy", "max", "nora", "oscar", "paul", "rosa", "sam", "tom", "vera", "will"],
  adverbs: ["slowly", "quickly", "happily", "quietly", "carefully", "loudly", "gently", "often", "never", "always"],
};

/**
 * The domain: star charts and lantern-making, with a vocabulary of its own (made-up words whose letter
 * patterns general English rarely uses), so a model pretrained on general text finds it surprising.
 */
export const DOMAIN = {
  nouns: ["zorvath", "quilmere", "vexlan", "oxbrill", "thrynn", "kaldrex", "myrrow", "quazzel", "zephrine", "vorlume", "jaxtor", "wyvrel", "skorra", "fenqix", "ulvarn", "yzmel"],
  stars: ["auzrel", "kyvos", "prixia", "zendaru", "quorrin", "vyxa", "ophrel", "xanthuq"],
  substances: ["zithane", "glimmerwax", "quorrel oil", "vexite dust", "myrrh salt", "oxmere"],
  verbs: ["kindles", "aligns", "charts", "tempers", "fuses", "gilds", "wicks", "scribes"],
  adjectives: ["zarven", "quiet", "brazen", "vyrnish", "oxen", "kelvish", "lumen", "sable"],
  tools: ["the skorrow", "a vexlan hook", "the quill of jax", "a thrynn glass", "the zorvath lens"],
};

const ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pl", "r", "s", "sh", "sk", "st", "t", "tr", "v", "w", "z"];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ee", "oo", "ou"];
const CODAS = ["", "", "n", "m", "l", "r", "t", "k", "nd", "st"];
/** Endings chosen so each plural rule (+s, +es, y -> ies) is common. */
const ENDINGS = ["", "", "", "s", "x", "ch", "sh", "y", "ey"];

/** A pronounceable made-up noun of 3..10 letters. */
export function madeUpNoun(r: Rand): string {
  for (;;) {
    let w = "";
    const syllables = 1 + Math.floor(r() * 2);
    for (let i = 0; i < syllables; i++) w += pick(r, ONSETS) + pick(r, VOWELS) + pick(r, CODAS);
    const end = pick(r, ENDINGS);
    w = end === "y" || end === "ey" ? w.replace(/[aeiou]+$/, "") + end : w + end;
    if (w.length >= 3 && w.length <= 10) return w;
  }
}

/** English plural by the three regular rules: s/x/z/ch/sh + es; consonant + y -> ies; else + s. */
export function plural(noun: string): string {
  if (/(s|x|z|ch|sh)$/.test(noun)) return noun + "es";
  if (/[^aeiou]y$/.test(noun)) return noun.slice(0, -1) + "ies";
  return noun + "s";
}
