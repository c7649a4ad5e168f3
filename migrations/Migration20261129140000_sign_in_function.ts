import { Migration } from '@mikro-orm/migrations';

/**
 * The provisioning transaction as one function call: one round trip instead of one per statement.
 * What to write is decided by the application (mappings, write policies, changes for the audit);
 * this function applies it atomically with the checks that need the database's latest state, and
 * refuses by raising P0001 with the error code as message, which rolls back everything it did:
 *
 * - STALE_CONFIGURATION: the connection changed (config_version), was disabled or deleted;
 * - SAML_REPLAY: (issuer, assertion id) was consumed before;
 * - JIT_DISABLED, FORBIDDEN (the user belongs to another connection), USER_BLOCKED;
 * - PLAN_OUTDATED: a refresh was planned against a contact that has changed since it was read.
 *
 * Input (jsonb): connectionId, configVersion, issuer, assertionId, notOnOrAfter, nameId, isAdmin,
 * sessionHash, sessionExpiresAt, via; create {values, changes}; refresh (refresh connections, user
 * seen) {contactExists, expect, values, changes}. `values` maps contact columns to values (arrays
 * for list columns); `expect` holds the mapped columns as they were read when the plan was made.
 * Output (jsonb): userId, created, contactId, sessionId, licenses [{id, name}], changes, outcome.
 */
export class Migration20261129140000SignInFunction extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function "jitprov_write_contact"(p_user uuid, p_contact uuid, p_values jsonb) returns uuid
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
      end $$`);
    this.addSql(`create function "jitprov_sign_in"(p jsonb) returns jsonb language plpgsql as $$
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
      begin
        select enabled, config_version, jit_enabled, refresh_on_login into v_enabled, v_version, v_jit, v_refresh
          from idp_connection where id = v_connection;
        if not found or not v_enabled or v_version <> (p->>'configVersion')::integer then
          raise exception using errcode = 'P0001', message = 'STALE_CONFIGURATION';
        end if;

        -- The replay guard across processes: the primary key on (issuer, assertion id).
        insert into consumed_assertion (issuer, assertion_id, expires_at)
          values (p->>'issuer', p->>'assertionId', (p->>'notOnOrAfter')::timestamptz)
          on conflict do nothing;
        if not found then
          raise exception using errcode = 'P0001', message = 'SAML_REPLAY';
        end if;

        -- Existing users are matched first, so that a JIT-off connection never inserts; racing first
        -- sign-ins of one person meet on the unique username and create one user.
        update app_user set last_login_at = now(), is_admin = (p->>'isAdmin')::boolean
          where username = p->>'nameId' returning id, status, connection_id into v_user, v_status, v_owner;
        if not found then
          if not v_jit then
            raise exception using errcode = 'P0001', message = 'JIT_DISABLED';
          end if;
          insert into app_user (username, connection_id, last_login_at, is_admin)
            values (p->>'nameId', v_connection, now(), (p->>'isAdmin')::boolean)
            on conflict (username) do update set last_login_at = excluded.last_login_at, is_admin = excluded.is_admin
            returning id, status, connection_id, (xmax = 0) into v_user, v_status, v_owner, v_created;
        end if;
        if v_owner is not null and v_owner <> v_connection then
          raise exception using errcode = 'P0001', message = 'FORBIDDEN';
        end if;
        if v_status = 'BLOCKED' then
          raise exception using errcode = 'P0001', message = 'USER_BLOCKED';
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
            raise exception using errcode = 'P0001', message = 'PLAN_OUTDATED';
          end if;
          v_contact := jitprov_write_contact(v_user, (v_current->>'id')::uuid, v_plan->'values');
          v_changes := v_plan->'changes';
          if jsonb_array_length(v_changes) > 0 then
            v_outcome := 'UPDATED';
          end if;
        else
          select id into v_contact from contact where user_id = v_user;
        end if;

        insert into user_session (token_hash, user_id, expires_at)
          values (p->>'sessionHash', v_user, (p->>'sessionExpiresAt')::timestamptz) returning id into v_session;

        if v_created then
          -- Last but the audit row: every first sign-in takes these rows' locks until it commits.
          -- Locks the available licenses in id order (no deadlocks between sign-ins), re-checks the
          -- seat condition on the locked row version, and takes a seat in the same statement.
          with available as (
            select id from license where active and (seats is null or used < seats) order by id for update
          ), granted as (
            update license l set used = l.used + 1 from available
            where l.id = available.id and (l.seats is null or l.used < l.seats)
            returning l.id, l.name
          ), grants as (
            insert into license_grant (license_id, user_id) select id, v_user from granted
          )
          select coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name) order by name), '[]'::jsonb)
            into v_licenses from granted;
        end if;
        insert into provisioning_event
          (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, via)
          values (v_connection, v_user, p->>'nameId', p->>'issuer', p->>'assertionId', v_outcome, v_changes,
                  (select coalesce(jsonb_agg(l->'name'), '[]'::jsonb) from jsonb_array_elements(v_licenses) l),
                  p->>'via');
        return jsonb_build_object('userId', v_user, 'created', v_created, 'contactId', v_contact,
          'sessionId', v_session, 'licenses', v_licenses, 'changes', v_changes, 'outcome', v_outcome);
      end $$`);
  }
}
