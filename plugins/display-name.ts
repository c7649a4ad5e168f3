import { defineTransform, z } from '../kit/index.js';

interface NameParts {
  given: string | null;
  family: string | null;
}

/**
 * Splits a display name. "Family, Given Middle" is read as written; otherwise the last word is the
 * family name, together with lower-case particles right before it ("van Gogh", "de la Cruz").
 * Scripts without spaces or case (e.g. "山田太郎") cannot be split and count as a single name.
 */
function splitName(raw: string, middleNames: string, singleNameAs: string): NameParts {
  const clean = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (clean === '') return { given: null, family: null };
  const comma = clean.indexOf(',');
  if (comma > 0) {
    const family = clean.slice(0, comma).trim();
    const rest = clean
      .slice(comma + 1)
      .trim()
      .split(' ');
    const given = middleNames === 'drop' ? (rest[0] ?? '') : rest.join(' ');
    return { given: given === '' ? null : given, family: family === '' ? null : family };
  }
  const words = clean.split(' ');
  if (words.length === 1) {
    return singleNameAs === 'family' ? { given: null, family: clean } : { given: clean, family: null };
  }
  let cut = words.length - 1;
  while (cut > 1 && /^\p{Ll}/u.test(words[cut - 1] ?? '')) cut--;
  const givenWords = words.slice(0, cut);
  const given = middleNames === 'drop' ? (givenWords[0] ?? '') : givenWords.join(' ');
  return { given, family: words.slice(cut).join(' ') };
}

export default defineTransform({
  name: 'display-name',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'Splits a display name ("Ada Lovelace", "Lovelace, Ada", "Vincent van Gogh") into its given or family name.',
  params: z.object({
    part: z.enum(['given', 'family']).describe('Which part of the name to return'),
    middleNames: z
      .enum(['given', 'drop'])
      .default('given')
      .describe('Middle names stay with the given name, or are dropped'),
    singleNameAs: z
      .enum(['given', 'family'])
      .default('given')
      .describe('What a one-word name ("Cher") counts as'),
  }),
  expression: `$exists($values[0])
    ? $lookup($splitName($values[0], $params.middleNames, $params.singleNameAs), $params.part)
    : null`,
  helpers: {
    splitName: { fn: splitName, signature: '<sss:o>' },
  },
  examples: [
    { description: 'Given name', input: { value: 'Ada Lovelace' }, params: { part: 'given' }, output: 'Ada' },
    {
      description: 'Family name',
      input: { value: 'Ada Lovelace' },
      params: { part: 'family' },
      output: 'Lovelace',
    },
    {
      description: '"Family, Given" as many directories write it',
      input: { value: 'Lovelace, Ada King' },
      params: { part: 'given' },
      output: 'Ada King',
    },
    {
      description: 'Middle names stay with the given name',
      input: { value: 'John Ronald Reuel Tolkien' },
      params: { part: 'given' },
      output: 'John Ronald Reuel',
    },
    {
      description: '… or are dropped',
      input: { value: 'John Ronald Reuel Tolkien' },
      params: { part: 'given', middleNames: 'drop' },
      output: 'John',
    },
    {
      description: 'Particles belong to the family name',
      input: { value: 'Ludwig van Beethoven' },
      params: { part: 'family' },
      output: 'van Beethoven',
    },
    {
      description: 'Non-ASCII names and stray spaces',
      input: { value: '  Zoë   Ångström-Øster ' },
      params: { part: 'family' },
      output: 'Ångström-Øster',
    },
    {
      description: 'A single name has no family name',
      input: { value: 'Cher' },
      params: { part: 'family' },
      output: null,
    },
    { description: 'An absent attribute', input: {}, params: { part: 'given' }, output: null },
  ],
});
