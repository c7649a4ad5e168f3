import { Agent, request } from 'node:http';
import type { AdminApi } from './admin.js';
import { type Summary, summarize } from './stats.js';

/**
 * The SCIM phase: Entra-shaped user creates (POST /scim/v2/Users) and updates (PATCH, two
 * replaces as Entra sends them) at a fixed concurrency, through the same provisioning core as a
 * sign-in, timed like the sign-in phases.
 */

export interface ScimFigures {
  creates: Summary & { perSecond: number; failed: number };
  patches: Summary & { perSecond: number; failed: number };
}

function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  token: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/scim+json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function phase(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<boolean>,
): Promise<Summary & { perSecond: number; failed: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const s = performance.now();
        const ok = await one(i).catch(() => false);
        if (ok) latencies.push(performance.now() - s);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(latencies), perSecond: latencies.length / seconds, failed };
}

export async function scimPhase(
  api: AdminApi,
  port: number,
  connectionId: string,
  runId: string,
  n: number,
  concurrency = 8,
): Promise<ScimFigures> {
  const made = await api.gql<{ createScimToken: { secret?: string; message?: string } }>(
    `mutation($c: ID!) { createScimToken(connectionId: $c, name: "bench") {
       ... on CreatedScimToken { secret } ... on InputError { message } } }`,
    { c: connectionId },
  );
  const token = made.createScimToken.secret;
  if (!token) throw new Error(`createScimToken: ${made.createScimToken.message}`);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const ids: string[] = [];
  const user = (i: number) =>
    JSON.stringify({
      schemas: [
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      ],
      externalId: `scim-${runId}-${i}`,
      userName: `scim-${runId}-${i}@contoso.example`,
      active: true,
      displayName: `Scim Person ${i}`,
      name: { givenName: 'Scim', familyName: `Person ${i}` },
      emails: [{ primary: true, type: 'work', value: `scim-${runId}-${i}@contoso.example` }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
        department: 'D043',
        employeeNumber: `S${i}`,
      },
    });
  const creates = await phase(n, concurrency, async (i) => {
    const r = await send(agent, port, 'POST', '/scim/v2/Users', token, user(i));
    if (r.status !== 201) return false;
    ids[i] = (JSON.parse(r.text) as { id: string }).id;
    return true;
  });
  const patch = (i: number) =>
    JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        {
          op: 'Replace',
          path: 'emails[type eq "work"].value',
          value: `scim-${runId}-${i}-new@contoso.example`,
        },
        { op: 'Replace', path: 'name.familyName', value: `Renamed ${i}` },
      ],
    });
  const patches = await phase(n, concurrency, async (i) => {
    const id = ids[i];
    if (!id) return false;
    return (await send(agent, port, 'PATCH', `/scim/v2/Users/${id}`, token, patch(i))).status === 200;
  });
  agent.destroy();
  return { creates, patches };
}
