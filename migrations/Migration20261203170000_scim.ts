import { Migration } from '@mikro-orm/migrations';

/**
 * SCIM 2.0 provisioning: per-connection tokens (hashed), the SCIM resource of each user the IdP
 * pushed, the connection's SCIM switch and deprovisioning policy; jitprov_provision learns
 * directory writes (mustCreate, status, releaseSeats). Function texts are copies of
 * src/provisioning/provisioning.sql as of this migration.
 */
export class Migration20261203170000Scim extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "scim_token" ("id" uuid not null default gen_random_uuid(), "connection_id" uuid not null, "name" varchar(80) not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "scim_token_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "scim_token_connection_id_index" on "scim_token" ("connection_id")`);
    this.addSql(
      `alter table "scim_token" add constraint "scim_token_token_hash_unique" unique ("token_hash")`,
    );
    this.addSql(
      `create table "scim_user" ("user_id" uuid not null, "connection_id" uuid not null, "resource" jsonb not null, "deleted_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "scim_user_pkey" primary key ("user_id"))`,
    );
    this.addSql(`create index "scim_user_connection_id_index" on "scim_user" ("connection_id")`);
    this.addSql(
      `alter table "scim_token" add constraint "scim_token_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "scim_user" add constraint "scim_user_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "scim_user" add constraint "scim_user_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "idp_connection" add column "scim_enabled" boolean not null default false, add column "scim_deprovision" text check ("scim_deprovision" in ('BLOCK', 'BLOCK_AND_RELEASE')) not null default 'BLOCK_AND_RELEASE'`,
    );
    this.addSql(
      `create table "scim_group" ("id" uuid not null default gen_random_uuid(), "connection_id" uuid not null, "display_name" varchar(256) not null, "external_id" varchar(512) null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "scim_group_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "scim_group_connection_id_index" on "scim_group" ("connection_id")`);
    this.addSql(
      `create table "scim_group_member" ("group_id" uuid not null, "user_id" uuid not null, constraint "scim_group_member_pkey" primary key ("group_id", "user_id"))`,
    );
    this.addSql(`create index "scim_group_member_user_id_index" on "scim_group_member" ("user_id")`);
    this.addSql(
      `alter table "scim_group" add constraint "scim_group_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "scim_group_member" add constraint "scim_group_member_group_id_foreign" foreign key ("group_id") references "scim_group" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "scim_group_member" add constraint "scim_group_member_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade`,
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
    -- contact column but these five is nullable without a default.
    insert into contact
      select r.* from jsonb_populate_record(null::contact, p_values || jsonb_build_object(
        'id', gen_random_uuid(), 'user_id', p_user, 'created_at', now(), 'updated_at', now(),
        'custom', coalesce(p_values->'custom', '{}'::jsonb))) r
      returning id into result;
    return result;
  end if;
  -- The admin-defined fields are merged into custom, the built-in columns replaced.
  select string_agg(format('%I', key), ', '),
         string_agg(case when key = 'custom' then 'c.custom || r.custom' else format('r.%I', key) end, ', ')
    into cols, picks from jsonb_object_keys(p_values) key;
  execute format('update contact c set (%s, updated_at) = (select %s, now() from jsonb_populate_record(null::contact, $1) r) where c.id = $2',
                 cols, picks)
    using p_values, p_contact;
  return p_contact;
end $$;
`);
    this.addSql(`create or replace function jitprov_provision(p jsonb) returns jsonb language plpgsql as $$
declare
  v_connection uuid := (p->>'connectionId')::uuid;
  v_username text := p->>'username';
  v_key text := p->>'key';
  v_policy text := coalesce(p->>'linkPolicy', 'USERNAME');
  v_enabled boolean;
  v_version integer;
  v_jit boolean;
  v_refresh boolean;
  v_user uuid;
  v_status text;
  v_owner uuid;
  v_bound text;
  v_old_username text;
  v_found integer;
  v_created boolean := false;
  v_contact uuid;
  v_current jsonb;
  v_plan jsonb;
  v_changes jsonb := '[]'::jsonb;
  v_rename jsonb := '[]'::jsonb;
  v_outcome text := 'SIGNED_IN';
  v_licenses jsonb := '[]'::jsonb;
  v_decisions jsonb := '[]'::jsonb;
  v_grant uuid[];
  v_held uuid[];
  v_item jsonb;
  v_roles jsonb;
  v_session uuid;
  v_refusal text;
  v_refused_license uuid;
  v_reactivated boolean := false;
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

    -- Who it is. By the stable key when the connection binds by one (a new NameID then renames the
    -- user), else by username. Locked: a rename and a sign-in of the old name meet here.
    if p->>'userId' is not null then
      -- A directory write names the user (a SCIM resource id): no lookup by name or key.
      select id, status, connection_id, username, external_key into v_user, v_status, v_owner, v_old_username, v_bound
        from app_user where id = (p->>'userId')::uuid for update;
      if v_user is null then
        raise sqlstate 'JP001' using detail = 'STALE_CONFIGURATION';
      end if;
    elsif v_key is not null then
      select id, status, connection_id, username, external_key into v_user, v_status, v_owner, v_old_username, v_bound
        from app_user where connection_id = v_connection and external_key = v_key for update;
    else
      select id, status, connection_id, username, external_key into v_user, v_status, v_owner, v_old_username, v_bound
        from app_user where username = v_username for update;
    end if;

    -- Nobody bound to the person yet: an existing user may be taken over only as the link policy
    -- says, and never one bound to another key (that is a different person).
    if v_user is null and v_key is not null then
      if v_policy = 'EMAIL' and p->>'email' is not null then
        select count(*) into v_found from app_user u join contact c on c.user_id = u.id
          where lower(c.email) = lower(p->>'email') and u.external_key is null
            and (u.connection_id is null or u.connection_id = v_connection);
        if v_found > 1 then
          raise sqlstate 'JP001' using detail = 'LINK_REFUSED';
        end if;
        select u.id, u.status, u.connection_id, u.username, u.external_key
          into v_user, v_status, v_owner, v_old_username, v_bound
          from app_user u join contact c on c.user_id = u.id
          where lower(c.email) = lower(p->>'email') and u.external_key is null
            and (u.connection_id is null or u.connection_id = v_connection)
          for update of u;
      end if;
      if v_user is null then
        select id, status, connection_id, username, external_key into v_user, v_status, v_owner, v_old_username, v_bound
          from app_user where username = v_username for update;
        -- Never one bound to another key; the connection's own users from before it bound by key
        -- are adopted; anyone else only under the USERNAME policy.
        if v_user is not null and (v_bound is not null
            or (v_owner is distinct from v_connection and v_policy <> 'USERNAME')) then
          raise sqlstate 'JP001' using detail = 'LINK_REFUSED';
        end if;
      end if;
    elsif v_user is not null and v_key is null and v_owner is null then
      -- A pre-created user with this username, bound to no connection yet.
      if v_policy = 'NEVER' or (v_policy = 'EMAIL' and not exists (
          select from contact c where c.user_id = v_user and lower(c.email) = lower(p->>'email'))) then
        raise sqlstate 'JP001' using detail = 'LINK_REFUSED';
      end if;
    end if;

    if v_user is null then
      if not v_jit then
        raise sqlstate 'JP001' using detail = 'JIT_DISABLED';
      end if;
      if v_key is null then
        -- Racing first sign-ins of one person meet on the unique username and create one user.
        insert into app_user (username, connection_id, last_login_at, is_admin)
          values (v_username, v_connection, now(), coalesce((p->>'isAdmin')::boolean, false))
          on conflict (username) do update set last_login_at = excluded.last_login_at, is_admin = excluded.is_admin
          returning id, status, connection_id, (xmax = 0) into v_user, v_status, v_owner, v_created;
      else
        -- ... on their key; another person taking the username meanwhile sends this one round again.
        begin
          insert into app_user (username, connection_id, external_key, last_login_at, is_admin)
            values (v_username, v_connection, v_key, now(), coalesce((p->>'isAdmin')::boolean, false))
            on conflict (connection_id, external_key) do update set last_login_at = excluded.last_login_at
            returning id, status, connection_id, (xmax = 0) into v_user, v_status, v_owner, v_created;
        exception when unique_violation then
          raise sqlstate 'JP001' using detail = 'CONTENTION';
        end;
      end if;
    end if;
    if v_owner is not null and v_owner <> v_connection then
      raise sqlstate 'JP001' using detail = 'OTHER_CONNECTION';
    end if;
    -- A directory's create of a person it already holds (a JIT user it has not seen is adopted).
    if not v_created and coalesce((p->>'mustCreate')::boolean, false)
       and exists (select from scim_user s where s.user_id = v_user and s.deleted_at is null) then
      raise sqlstate 'JP001' using detail = 'USER_EXISTS';
    end if;
    if p->>'status' is not null then
      if v_status is distinct from p->>'status' then
        v_reactivated := v_status = 'BLOCKED';
        update app_user set status = p->>'status' where id = v_user;
        if not v_created then
          v_rename := v_rename || jsonb_build_array(jsonb_build_object(
            'column', 'status', 'old', v_status, 'new', p->>'status', 'mappingId', null));
        end if;
      end if;
      v_status := p->>'status';
      if v_status = 'BLOCKED' then
        update user_session set revoked_at = now() where user_id = v_user and revoked_at is null;
      end if;
    elsif v_status = 'BLOCKED' then
      raise sqlstate 'JP001' using detail = 'USER_BLOCKED';
    end if;
    if not v_created then
      begin
        update app_user set last_login_at = now(), is_admin = coalesce((p->>'isAdmin')::boolean, is_admin),
            username = v_username, connection_id = v_connection, external_key = coalesce(v_key, external_key)
          where id = v_user;
      exception when unique_violation then
        raise sqlstate 'JP001' using detail = 'USERNAME_TAKEN';
      end;
      if v_old_username is distinct from v_username then
        v_rename := v_rename || jsonb_build_array(jsonb_build_object(
          'column', 'username', 'old', v_old_username, 'new', v_username, 'mappingId', null));
      end if;
    end if;

    if v_created then
      v_contact := jitprov_write_contact(v_user, null, p->'create'->'values');
      v_changes := p->'create'->'changes';
      v_outcome := 'CREATED';
    else
      select id into v_contact from contact where user_id = v_user;
      if v_refresh then
        v_plan := p->'refresh';
        select to_jsonb(c) into v_current from contact c where c.user_id = v_user for update;
        if v_plan is null
           or (v_current is null) <> not (v_plan->>'contactExists')::boolean
           or exists (select from jsonb_each(v_plan->'expect') e where (v_current #> string_to_array(e.key, '.')) is distinct from e.value) then
          raise sqlstate 'JP001' using detail = 'PLAN_OUTDATED';
        end if;
        v_contact := jitprov_write_contact(v_user, (v_current->>'id')::uuid, v_plan->'values');
        v_changes := v_plan->'changes';
      end if;
      v_changes := v_rename || v_changes;
      if jsonb_array_length(v_changes) > 0 then
        v_outcome := 'UPDATED';
      end if;
    end if;

    -- The roles the rules give, replacing those held; left out (unknown groups): kept.
    if p->'roles' is not null then
      delete from user_role where user_id = v_user
        and not role_id = any (array(select jsonb_array_elements_text(p->'roles'))::uuid[]);
      insert into user_role (user_id, role_id)
        select v_user, r::uuid from jsonb_array_elements_text(p->'roles') r on conflict do nothing;
    end if;
    select coalesce(jsonb_agg(r.name order by r.name), '[]'::jsonb) into v_roles
      from user_role ur join role r on r.id = ur.role_id where ur.user_id = v_user;

    if p->'session' is not null then
      insert into user_session (token_hash, user_id, expires_at)
        values (p->'session'->>'hash', v_user, (p->'session'->>'expiresAt')::timestamptz)
        returning id into v_session;
    end if;

    -- Seats last but the audit row: a provisioning holds these rows' locks until it commits.
    if v_status = 'BLOCKED' then
      -- Deprovisioned: no new seat; the held ones given back when the policy says so.
      if coalesce((p->>'releaseSeats')::boolean, false) then
        select coalesce(jsonb_agg(jsonb_build_object('licenseId', s.id, 'license', s.name, 'ruleId', null,
                 'decision', 'REVOKED')), '[]'::jsonb)
          into v_decisions from jitprov_release_seats(v_user, null) s;
      end if;
    elsif p->'licenses' is null then
      if v_created or v_reactivated then
        select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name) order by s.name), '[]'::jsonb)
          into v_licenses from jitprov_take_seats(v_user, null) s;
        select coalesce(jsonb_agg(jsonb_build_object('licenseId', l->'id', 'license', l->'name', 'ruleId', null,
                 'decision', 'GRANTED')), '[]'::jsonb)
          into v_decisions from jsonb_array_elements(v_licenses) l;
      end if;
    else
      v_decisions := coalesce(p->'licenses'->'notes', '[]'::jsonb);
      for v_item in select * from jsonb_array_elements(coalesce(p->'licenses'->'revoke', '[]'::jsonb)) loop
        v_decisions := v_decisions || coalesce((select jsonb_agg(jsonb_build_object('licenseId', s.id, 'license', s.name,
            'ruleId', v_item->'ruleId', 'decision', 'REVOKED'))
          from jitprov_release_seats(v_user, array[(v_item->>'licenseId')::uuid]) s), '[]'::jsonb);
      end loop;
      v_grant := array(select (g->>'licenseId')::uuid from jsonb_array_elements(coalesce(p->'licenses'->'grant', '[]'::jsonb)) g);
      v_held := array(select license_id from license_grant where user_id = v_user and license_id = any (v_grant));
      select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name) order by s.name), '[]'::jsonb)
        into v_licenses from jitprov_take_seats(v_user, v_grant) s;
      for v_item in select * from jsonb_array_elements(coalesce(p->'licenses'->'grant', '[]'::jsonb)) loop
        if (v_item->>'licenseId')::uuid = any (v_held) then
          v_decisions := v_decisions || jsonb_build_object('licenseId', v_item->'licenseId', 'license',
            (select name from license where id = (v_item->>'licenseId')::uuid), 'ruleId', v_item->'ruleId', 'decision', 'HELD');
        elsif exists (select from jsonb_array_elements(v_licenses) l where l->>'id' = v_item->>'licenseId') then
          v_decisions := v_decisions || jsonb_build_object('licenseId', v_item->'licenseId', 'license',
            (select name from license where id = (v_item->>'licenseId')::uuid), 'ruleId', v_item->'ruleId', 'decision', 'GRANTED');
        elsif (v_item->>'refuse')::boolean then
          v_refused_license := (v_item->>'licenseId')::uuid;
          raise sqlstate 'JP001' using detail = 'LICENSE_SEATS_EXHAUSTED';
        else
          v_decisions := v_decisions || jsonb_build_object('licenseId', v_item->'licenseId', 'license',
            (select name from license where id = (v_item->>'licenseId')::uuid), 'ruleId', v_item->'ruleId', 'decision', 'NO_SEAT');
        end if;
      end loop;
    end if;

    -- A directory's record of the person (the SCIM resource), written with everything else.
    if p->'record' is not null then
      insert into scim_user (user_id, connection_id, resource, deleted_at)
        values (v_user, v_connection, p->'record'->'resource',
                case when (p->'record'->>'deleted')::boolean then now() end)
        on conflict (user_id) do update
          set resource = excluded.resource, connection_id = excluded.connection_id,
              deleted_at = excluded.deleted_at, updated_at = now();
    end if;

    -- Rewritten only when it says something new: an unchanged sample leaves no dead row behind.
    if p->'sample' is not null then
      insert into sign_in_sample (connection_id, name_id, attributes, signed_in_at)
        values (v_connection, v_username, p->'sample', now())
        on conflict (connection_id, name_id) do update
          set attributes = excluded.attributes, signed_in_at = excluded.signed_in_at
          where sign_in_sample.attributes is distinct from excluded.attributes
             or sign_in_sample.signed_in_at < now() - interval '1 hour';
    end if;
    insert into provisioning_event
      (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, fallbacks,
       license_decisions, roles, group_overage, via)
      values (v_connection, v_user, v_username, p->'credential'->>'issuer', p->'credential'->>'id',
              v_outcome, v_changes,
              (select coalesce(jsonb_agg(l->'name'), '[]'::jsonb) from jsonb_array_elements(v_licenses) l),
              coalesce(p->'fallbacks', '[]'::jsonb), v_decisions, v_roles,
              coalesce((p->>'groupOverage')::boolean, false), p->>'via');
    return jsonb_build_object('userId', v_user, 'created', v_created, 'contactId', v_contact,
      'sessionId', v_session, 'licenses', v_licenses, 'changes', v_changes, 'licenseDecisions', v_decisions,
      'roles', v_roles, 'outcome', v_outcome);
  exception when sqlstate 'JP001' then
    get stacked diagnostics v_refusal = pg_exception_detail;
    return jsonb_build_object('refusal', v_refusal, 'license', v_refused_license);
  end;
end $$;
`);
  }
}
