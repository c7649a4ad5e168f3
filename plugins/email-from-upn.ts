import { defineTransform, z } from '../kit/index.js';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * A UPN as an email address. Entra writes a B2B guest's UPN as `ada_example.com#EXT#@tenant…`: the
 * guest's own address is the part before `#EXT#`, with its last `_` standing for the `@`.
 */
function upnToEmail(raw: string, domains: Record<string, string>, lowercase: boolean): string | undefined {
  let upn = raw.trim();
  if (upn === '') return undefined;
  const ext = upn.toUpperCase().indexOf('#EXT#');
  if (ext > 0) {
    const local = upn.slice(0, ext);
    const at = local.lastIndexOf('_');
    if (at > 0) upn = `${local.slice(0, at)}@${local.slice(at + 1)}`;
  }
  if (!EMAIL.test(upn)) throw new Error('the value is not a user principal name (name@domain)');
  const at = upn.lastIndexOf('@');
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1).toLowerCase();
  const rewritten = Object.hasOwn(domains, domain) ? domains[domain] : undefined;
  const email = `${local}@${rewritten ?? domain}`;
  return lowercase ? email.toLowerCase() : email;
}

export default defineTransform({
  name: 'email-from-upn',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    "Turns a user principal name into an email address: Entra B2B guests' #EXT# UPNs are unwrapped, and UPN domains can be rewritten to mail domains.",
  params: z.object({
    domains: z
      .record(
        z.string().regex(DOMAIN, 'must be a domain name').toLowerCase(),
        z.string().regex(DOMAIN, 'must be a domain name').toLowerCase(),
      )
      .default({})
      .describe('UPN domain → mail domain, e.g. corp.contoso.local → contoso.com'),
    lowercase: z.boolean().default(true).describe('Lower-case the address'),
    source: z
      .enum(['value', 'nameId'])
      .default('value')
      .describe("Read the UPN from the mapped attribute, or from the assertion's NameID"),
  }),
  expression: `(
    $upn := $params.source = 'nameId' ? $nameId : $values[0];
    $exists($upn) ? $upnToEmail($upn, $params.domains, $params.lowercase) : null
  )`,
  helpers: {
    upnToEmail: { fn: upnToEmail, signature: '<sob:s>' },
  },
  examples: [
    {
      description: 'A UPN that is already the address',
      input: { value: 'Ada.Lovelace@Contoso.com' },
      params: {},
      output: 'ada.lovelace@contoso.com',
    },
    {
      description: 'An internal UPN domain rewritten to the mail domain',
      input: { value: 'ada@corp.contoso.local' },
      params: { domains: { 'corp.contoso.local': 'contoso.com' } },
      output: 'ada@contoso.com',
    },
    {
      description: "An Entra B2B guest's UPN",
      input: { value: 'ada_fabrikam.com#EXT#@contoso.onmicrosoft.com' },
      params: {},
      output: 'ada@fabrikam.com',
    },
    {
      description: 'From the NameID, keeping the case',
      input: { nameId: 'Ada@Contoso.com' },
      params: { source: 'nameId', lowercase: false },
      output: 'Ada@contoso.com',
    },
    { description: 'Not a UPN', input: { value: 'ada' }, params: {}, fails: 'not a user principal name' },
  ],
});
