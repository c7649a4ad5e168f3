import { defineTransform, z } from '../kit/index.js';

export default defineTransform({
  name: 'first-non-empty',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'The first non-blank value among several attributes, tried in order (e.g. mail, then otherMails, then the UPN).',
  params: z.object({
    attributes: z
      .array(z.string().min(1))
      .min(1)
      .max(20)
      .describe('Attribute names to try, in order, exactly as the IdP sends them'),
    includeNameId: z
      .boolean()
      .default(false)
      .describe('Fall back to the NameID when every attribute is blank'),
  }),
  expression: `(
    $found := $params.attributes.$lookup($attributes, $)[$trim($) != ''];
    $exists($found[0]) ? $found[0] : ($params.includeNameId and $trim($nameId) != '') ? $nameId : null
  )`,
  examples: [
    {
      description: 'The first attribute has a value',
      input: { attributes: { mail: ['ada@example.com'], upn: ['ada@corp.example.com'] } },
      params: { attributes: ['mail', 'upn'] },
      output: 'ada@example.com',
    },
    {
      description: 'Blank and absent attributes are skipped',
      input: { attributes: { mail: ['  '], upn: ['ada@corp.example.com'] } },
      params: { attributes: ['mail', 'otherMails', 'upn'] },
      output: 'ada@corp.example.com',
    },
    {
      description: 'The NameID as the last resort',
      input: { attributes: {}, nameId: 'ada@idp.example.com' },
      params: { attributes: ['mail'], includeNameId: true },
      output: 'ada@idp.example.com',
    },
    {
      description: 'Nothing found',
      input: { attributes: { mail: [''] } },
      params: { attributes: ['mail'] },
      output: null,
    },
  ],
});
