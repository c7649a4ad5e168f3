import { Migration } from '@mikro-orm/migrations';

/**
 * Mappings that cannot lock people out unnoticed: each mapping gets a failure policy (existing ones
 * the policy their definition implied: required refuses, a default value is written, otherwise the
 * column is kept), provisioning events record the mappings that fell back, and each connection
 * keeps its recent sign-ins' attribute sets (bounded, with a retention) to check mapping changes
 * against. jitprov_provision writes both; its text is a copy of src/provisioning/provisioning.sql
 * as of this migration.
 */
export class Migration20261203120000MappingSafety extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "attribute_mapping" add column "on_failure" text check ("on_failure" in ('REFUSE', 'KEEP', 'DEFAULT')) not null default 'KEEP'`,
    );
    this.addSql(
      `update "attribute_mapping" set "on_failure" = case when "required" then 'REFUSE' when "default_value" is not null then 'DEFAULT' else 'KEEP' end`,
    );
    this.addSql(`alter table "provisioning_event" add column "fallbacks" jsonb not null default '[]'`);
    this.addSql(
      `alter table "idp_connection" add column "sample_size" int not null default 200, add column "sample_retention_days" int not null default 30`,
    );
    this.addSql(
      `create table "sign_in_sample" ("connection_id" uuid not null, "name_id" varchar(512) not null, "attributes" jsonb not null, "signed_in_at" timestamptz not null default now(), constraint "sign_in_sample_pkey" primary key ("connection_id", "name_id"))`,
    );
    this.addSql(
      `create index "sign_in_sample_connection_id_signed_in_at_index" on "sign_in_sample" ("connection_id", "signed_in_at")`,
    );
    this.addSql(
      `alter table "sign_in_sample" add constraint "sign_in_sample_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    // src/provisioning/provisioning.sql
    this.addSql(`create or replace function jitprov_write_contact(p_user uuid, p_contact uuid, p_values jsonb) returns uuid
  language plpgsql as $$
declare
  cols text;
  picks text;
  result uuid;
begin
  if p_values = '{}'::jsonb and p_contact is not null then
    return p_contact;
  end if;
  if p_contact is null then
    -- Static SQL (its plan is kept): every column the values do not name is null, as every
    -- contact column but these four is nullable without a default.
    insert into contact
      select r.* from jsonb_populate_record(null::contact, p_values || jsonb_build_object(
        'id', gen_random_uuid(), 'user_id', p_user, 'created_at', now(), 'updated_at', now())) r
      returning id into result;
    return result;
  end if;
  select string_agg(format('%I', key), ', '), string_agg(format('r.%I', key), ', ')
    into cols, picks from jsonb_object_keys(p_values) key;
  execute format('update contact c set (%s, updated_at) = (select %s, now() from jsonb_populate_record(null::contact, $1) r) where c.id = $2',
                 cols, picks)
    using p_values, p_contact;
  return p_contact;
end $$;

create or replace function jitprov_provision(p jsonb) returns jsonb language plpgsql as $$
declare
  v_connection uuid := (p->>'connectionId')::uuid;
  v_enabled boolean;
  v_version integer;
  v_jit boolean;
  v_refresh boolean;
  v_user uuid;
  v_status text;
  v_owner uuid;
  v_created boolean := false;
  v_contact uuid;
  v_current jsonb;
  v_plan jsonb;
  v_changes jsonb := '[]'::jsonb;
  v_outcome text := 'SIGNED_IN';
  v_licenses jsonb := '[]'::jsonb;
  v_session uuid;
  v_refusal text;
begin
  begin
    select enabled, config_version, jit_enabled, refresh_on_login into v_enabled, v_version, v_jit, v_refresh
      from idp_connection where id = v_connection;
    if not found or not v_enabled or v_version <> (p->>'configVersion')::integer then
      raise sqlstate 'JP001' using detail = 'STALE_CONFIGURATION';
    end if;

    -- The replay guard across processes: the primary key on (issuer, id).
    if p->'credential' is not null then
      insert into consumed_assertion (issuer, assertion_id, expires_at)
        values (p->'credential'->>'issuer', p->'credential'->>'id', (p->'credential'->>'expiresAt')::timestamptz)
        on conflict do nothing;
      if not found then
        raise sqlstate 'JP001' using detail = 'REPLAY';
      end if;
    end if;

    -- Existing users are matched first, so that a JIT-off connection never inserts; racing first
    -- provisionings of one person meet on the unique username and create one user.
    update app_user set last_login_at = now(), is_admin = (p->>'isAdmin')::boolean
      where username = p->>'username' returning id, status, connection_id into v_user, v_status, v_owner;
    if not found then
      if not v_jit then
        raise sqlstate 'JP001' using detail = 'JIT_DISABLED';
      end if;
      insert into app_user (username, connection_id, last_login_at, is_admin)
        values (p->>'username', v_connection, now(), (p->>'isAdmin')::boolean)
        on conflict (username) do update set last_login_at = excluded.last_login_at, is_admin = excluded.is_admin
        returning id, status, connection_id, (xmax = 0) into v_user, v_status, v_owner, v_created;
    end if;
    if v_owner is not null and v_owner <> v_connection then
      raise sqlstate 'JP001' using detail = 'OTHER_CONNECTION';
    end if;
    if v_status = 'BLOCKED' then
      raise sqlstate 'JP001' using detail = 'USER_BLOCKED';
    end if;

    if v_created then
      v_contact := jitprov_write_contact(v_user, null, p->'create'->'values');
      v_changes := p->'create'->'changes';
      v_outcome := 'CREATED';
    elsif v_refresh then
      v_plan := p->'refresh';
      select to_jsonb(c) into v_current from contact c where c.user_id = v_user for update;
      if v_plan is null
         or (v_current is null) <> not (v_plan->>'contactExists')::boolean
         or exists (select from jsonb_each(v_plan->'expect') e where (v_current -> e.key) is distinct from e.value) then
        raise sqlstate 'JP001' using detail = 'PLAN_OUTDATED';
      end if;
      v_contact := jitprov_write_contact(v_user, (v_current->>'id')::uuid, v_plan->'values');
      v_changes := v_plan->'changes';
      if jsonb_array_length(v_changes) > 0 then
        v_outcome := 'UPDATED';
      end if;
    else
      select id into v_contact from contact where user_id = v_user;
    end if;

    if p->'session' is not null then
      insert into user_session (token_hash, user_id, expires_at)
        values (p->'session'->>'hash', v_user, (p->'session'->>'expiresAt')::timestamptz)
        returning id into v_session;
    end if;

    if v_created then
      -- Last but the audit row: every first provisioning holds these rows' locks until it commits.
      select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name) order by s.name), '[]'::jsonb)
        into v_licenses from jitprov_take_seats(v_user, null) s;
    end if;
    -- Rewritten only when it says something new: an unchanged sample leaves no dead row behind.
    if p->'sample' is not null then
      insert into sign_in_sample (connection_id, name_id, attributes, signed_in_at)
        values (v_connection, p->>'username', p->'sample', now())
        on conflict (connection_id, name_id) do update
          set attributes = excluded.attributes, signed_in_at = excluded.signed_in_at
          where sign_in_sample.attributes is distinct from excluded.attributes
             or sign_in_sample.signed_in_at < now() - interval '1 hour';
    end if;
    insert into provisioning_event
      (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, fallbacks, via)
      values (v_connection, v_user, p->>'username', p->'credential'->>'issuer', p->'credential'->>'id',
              v_outcome, v_changes,
              (select coalesce(jsonb_agg(l->'name'), '[]'::jsonb) from jsonb_array_elements(v_licenses) l),
              coalesce(p->'fallbacks', '[]'::jsonb), p->>'via');
    return jsonb_build_object('userId', v_user, 'created', v_created, 'contactId', v_contact,
      'sessionId', v_session, 'licenses', v_licenses, 'changes', v_changes, 'outcome', v_outcome);
  exception when sqlstate 'JP001' then
    get stacked diagnostics v_refusal = pg_exception_detail;
    return jsonb_build_object('refusal', v_refusal);
  end;
end $$;
`);
  }
}
