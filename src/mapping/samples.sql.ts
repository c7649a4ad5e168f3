import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The sign-in samples a mapping change is checked against (see sign-in-sample.entity.ts): read,
 * newest first, and swept to each connection's size and retention.
 */

export interface Sample {
  nameId: string;
  attributes: Record<string, string[]>;
  signedInAt: Date;
}

export async function recentSamples(
  em: EntityManager,
  connectionId: string,
  limit: number,
): Promise<Sample[]> {
  const rows = await em.execute<
    { name_id: string; attributes: Record<string, string[]>; signed_in_at: Date | string }[]
  >(
    `select s.name_id, s.attributes, s.signed_in_at from sign_in_sample s join idp_connection c on c.id = s.connection_id
     where s.connection_id = ? and s.signed_in_at > now() - make_interval(days => c.sample_retention_days)
     order by s.signed_in_at desc, s.name_id limit ?`,
    [connectionId, limit],
  );
  return rows.map((r) => ({
    nameId: r.name_id,
    attributes: r.attributes,
    signedInAt: new Date(r.signed_in_at),
  }));
}

/** An attribute name the connection's recent sign-ins carried, with how many of them carried it. */
export interface SeenAttribute {
  name: string;
  signIns: number;
  lastSeenAt: Date;
}

/** The attribute names in the kept samples (names only: the values are personal data), most carried first. */
export async function seenAttributes(em: EntityManager, connectionId: string): Promise<SeenAttribute[]> {
  const rows = await em.execute<{ name: string; sign_ins: string | number; last_seen_at: Date | string }[]>(
    `select k.name, count(*) as sign_ins, max(s.signed_in_at) as last_seen_at
     from sign_in_sample s join idp_connection c on c.id = s.connection_id
     cross join lateral jsonb_object_keys(s.attributes) as k(name)
     where s.connection_id = ? and s.signed_in_at > now() - make_interval(days => c.sample_retention_days)
     group by k.name order by count(*) desc, k.name limit 500`,
    [connectionId],
  );
  return rows.map((r) => ({
    name: r.name,
    signIns: Number(r.sign_ins),
    lastSeenAt: new Date(r.last_seen_at),
  }));
}

/** Drops samples past their connection's retention, and beyond its sample size (the oldest first). */
export async function sweepSignInSamples(em: EntityManager): Promise<void> {
  await em.execute(
    `delete from sign_in_sample s using idp_connection c
     where c.id = s.connection_id
       and (c.sample_size = 0 or s.signed_in_at < now() - make_interval(days => c.sample_retention_days))`,
  );
  await em.execute(
    `delete from sign_in_sample s using (
       select r.connection_id, r.name_id from (
         select connection_id, name_id,
                row_number() over (partition by connection_id order by signed_in_at desc, name_id) as n
         from sign_in_sample) r
       join idp_connection c on c.id = r.connection_id where r.n > c.sample_size) x
     where s.connection_id = x.connection_id and s.name_id = x.name_id`,
  );
}
