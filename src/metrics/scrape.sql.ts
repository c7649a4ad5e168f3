import type { EntityManager } from '@mikro-orm/postgresql';

/** Read at scrape time (never cached): every license's seats, and every connection's certificates. */

export interface LicenseSeats {
  id: string;
  name: string;
  used: number;
  /** null = no seat limit. */
  seats: number | null;
  active: boolean;
}

export async function licenseSeats(em: EntityManager): Promise<LicenseSeats[]> {
  const rows = await em.execute<
    { id: string; name: string; used: number; seats: number | null; active: boolean }[]
  >('select id, name, used, seats, active from license order by name');
  return rows.map((r) => ({ ...r, used: Number(r.used), seats: r.seats === null ? null : Number(r.seats) }));
}

export interface ConnectionCertificate {
  connectionId: string;
  connection: string;
  fingerprintSha256: string;
  notAfter: Date;
}

export async function connectionCertificates(em: EntityManager): Promise<ConnectionCertificate[]> {
  const rows = await em.execute<{ id: string; name: string; fingerprint: string; not_after: string }[]>(
    `select c.id, c.name, cert->>'fingerprintSha256' as fingerprint, cert->>'notAfter' as not_after
       from idp_connection c, jsonb_array_elements(c.certificates) cert
      order by c.name`,
  );
  return rows.map((r) => ({
    connectionId: r.id,
    connection: r.name,
    fingerprintSha256: r.fingerprint,
    notAfter: new Date(r.not_after),
  }));
}
