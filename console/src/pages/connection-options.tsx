import { described, Field, fieldError, type Refusal } from '../ui.tsx';

export interface ConnectionOptionsValue {
  name: string;
  jitEnabled: boolean;
  refreshOnLogin: boolean;
  idpInitiatedAllowed: boolean;
  /** null: as the metadata asks (WantAuthnRequestsSigned); only when creating */
  signAuthnRequests: boolean | null;
  wantResponseSigned: boolean;
  nameIdFormat: string;
  adminGroups: string;
  groupsAttribute: string;
  clockSkewSeconds: string;
  sampleSize: string;
  sampleRetentionDays: string;
  allowSha1: boolean;
  identityKey: 'NAME_ID' | 'ATTRIBUTE';
  identityKeyAttribute: string;
  linkPolicy: 'USERNAME' | 'EMAIL' | 'NEVER';
  /** '' = never */
  inactivityDays: string;
  inactivityAction: 'BLOCK' | 'RELEASE_SEATS' | 'BLOCK_AND_RELEASE';
  scimEnabled: boolean;
  scimDeprovision: 'BLOCK' | 'BLOCK_AND_RELEASE';
}

/** Entra's immutable object id: what to bind people by, so that a renamed UPN stays the same user. */
export const ENTRA_OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export const NAMEID_FORMATS: [value: string, label: string][] = [
  ['', 'Any format but transient'],
  ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', 'Email address'],
  ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', 'Persistent'],
  ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', 'Unspecified'],
];

export const DEFAULT_OPTIONS: ConnectionOptionsValue = {
  name: '',
  jitEnabled: true,
  refreshOnLogin: false,
  idpInitiatedAllowed: true,
  signAuthnRequests: null,
  wantResponseSigned: false,
  nameIdFormat: '',
  adminGroups: '',
  groupsAttribute: '',
  clockSkewSeconds: '60',
  sampleSize: '200',
  sampleRetentionDays: '30',
  allowSha1: false,
  identityKey: 'NAME_ID',
  identityKeyAttribute: '',
  linkPolicy: 'USERNAME',
  inactivityDays: '',
  inactivityAction: 'BLOCK_AND_RELEASE',
  scimEnabled: false,
  scimDeprovision: 'BLOCK_AND_RELEASE',
};

/** The option fields as the API takes them (both create and update). */
export function optionsInput(v: ConnectionOptionsValue) {
  return {
    name: v.name.trim(),
    jitEnabled: v.jitEnabled,
    refreshOnLogin: v.refreshOnLogin,
    idpInitiatedAllowed: v.idpInitiatedAllowed,
    wantResponseSigned: v.wantResponseSigned,
    ...(v.signAuthnRequests === null ? {} : { signAuthnRequests: v.signAuthnRequests }),
    nameIdFormat: v.nameIdFormat || null,
    adminGroups: v.adminGroups
      .split('\n')
      .map((g) => g.trim())
      .filter(Boolean),
    ...(v.groupsAttribute.trim() ? { groupsAttribute: v.groupsAttribute.trim() } : {}),
    clockSkewSeconds: Number(v.clockSkewSeconds),
    sampleSize: Number(v.sampleSize),
    sampleRetentionDays: Number(v.sampleRetentionDays),
    allowSha1: v.allowSha1,
    identityKey: v.identityKey,
    identityKeyAttribute: v.identityKey === 'ATTRIBUTE' ? v.identityKeyAttribute.trim() || null : null,
    linkPolicy: v.linkPolicy,
    inactivityDays: v.inactivityDays.trim() === '' ? null : Number(v.inactivityDays),
    inactivityAction: v.inactivityAction,
    scimEnabled: v.scimEnabled,
    scimDeprovision: v.scimDeprovision,
  };
}

function Check({
  id,
  label,
  checked,
  onChange,
  hint,
}: {
  id: string;
  label: string;
  checked: boolean;
  onChange(v: boolean): void;
  hint: string;
}) {
  return (
    <div className="check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={`${id}-hint`}
      />
      <label htmlFor={id}>{label}</label>
      <small id={`${id}-hint`} className="hint">
        {hint}
      </small>
    </div>
  );
}

export function ConnectionOptions({
  value,
  onChange,
  refusal,
  creating,
}: {
  value: ConnectionOptionsValue;
  onChange(v: ConnectionOptionsValue): void;
  refusal: Refusal | null;
  creating: boolean;
}) {
  const set = <K extends keyof ConnectionOptionsValue>(k: K, v: ConnectionOptionsValue[K]) =>
    onChange({ ...value, [k]: v });
  const err = (f: string) => fieldError(refusal, f);
  return (
    <fieldset>
      <legend>Options</legend>
      <Field id="conn-name" label="Name" error={err('name')}>
        <input
          id="conn-name"
          required
          value={value.name}
          onChange={(e) => set('name', e.target.value)}
          {...described('conn-name', err('name'))}
        />
      </Field>
      <Check
        id="conn-jit"
        label="Just-in-time provisioning"
        checked={value.jitEnabled}
        onChange={(v) => set('jitEnabled', v)}
        hint="Create a user at their first sign-in."
      />
      <Check
        id="conn-refresh"
        label="Refresh contact on every sign-in"
        checked={value.refreshOnLogin}
        onChange={(v) => set('refreshOnLogin', v)}
        hint="Existing users get their contact updated from the mappings."
      />
      <Check
        id="conn-idp-initiated"
        label="Allow IdP-initiated sign-in"
        checked={value.idpInitiatedAllowed}
        onChange={(v) => set('idpInitiatedAllowed', v)}
        hint="Accept responses no AuthnRequest of ours asked for."
      />
      <Check
        id="conn-want-response-signed"
        label="Require the Response to be signed too"
        checked={value.wantResponseSigned}
        onChange={(v) => set('wantResponseSigned', v)}
        hint="The assertion signature is always required; Entra signs only the assertion by default."
      />
      <Field id="conn-sign-requests" label="Sign AuthnRequests" error={err('signAuthnRequests')}>
        <select
          id="conn-sign-requests"
          value={value.signAuthnRequests === null ? '' : String(value.signAuthnRequests)}
          onChange={(e) => set('signAuthnRequests', e.target.value === '' ? null : e.target.value === 'true')}
        >
          {creating ? <option value="">As the metadata asks</option> : null}
          <option value="true">Yes</option>
          <option value="false">No</option>
        </select>
      </Field>
      <Field id="conn-nameid" label="NameID format" error={err('nameIdFormat')}>
        <select
          id="conn-nameid"
          value={value.nameIdFormat}
          onChange={(e) => set('nameIdFormat', e.target.value)}
        >
          {NAMEID_FORMATS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
          {NAMEID_FORMATS.some(([v]) => v === value.nameIdFormat) ? null : (
            <option value={value.nameIdFormat}>{value.nameIdFormat}</option>
          )}
        </select>
      </Field>
      <Field
        id="conn-admin-groups"
        label="Admin groups"
        hint="One group value per line; members get the admin role (checked at every sign-in)."
        error={err('adminGroups')}
      >
        <textarea
          id="conn-admin-groups"
          rows={3}
          value={value.adminGroups}
          onChange={(e) => set('adminGroups', e.target.value)}
          {...described('conn-admin-groups', err('adminGroups'), 'x')}
        />
      </Field>
      <Field
        id="conn-groups-attribute"
        label="Groups attribute"
        hint="Leave empty for Entra's groups claim."
        error={err('groupsAttribute')}
      >
        <input
          id="conn-groups-attribute"
          value={value.groupsAttribute}
          onChange={(e) => set('groupsAttribute', e.target.value)}
          {...described('conn-groups-attribute', err('groupsAttribute'), 'x')}
        />
      </Field>
      <Field id="conn-skew" label="Clock skew (seconds)" error={err('clockSkewSeconds')}>
        <input
          id="conn-skew"
          type="number"
          min={0}
          value={value.clockSkewSeconds}
          onChange={(e) => set('clockSkewSeconds', e.target.value)}
          {...described('conn-skew', err('clockSkewSeconds'))}
        />
      </Field>
      <Field
        id="conn-sample-size"
        label="Recent sign-ins kept"
        hint="Their attribute sets (the latest per person) are what mapping changes are checked against; 0 keeps none."
        error={err('sampleSize')}
      >
        <input
          id="conn-sample-size"
          type="number"
          min={0}
          value={value.sampleSize}
          onChange={(e) => set('sampleSize', e.target.value)}
          {...described('conn-sample-size', err('sampleSize'), 'x')}
        />
      </Field>
      <Field
        id="conn-sample-days"
        label="Days a sign-in sample is kept"
        hint="Samples are personal data, visible to admins only."
        error={err('sampleRetentionDays')}
      >
        <input
          id="conn-sample-days"
          type="number"
          min={1}
          value={value.sampleRetentionDays}
          onChange={(e) => set('sampleRetentionDays', e.target.value)}
          {...described('conn-sample-days', err('sampleRetentionDays'), 'x')}
        />
      </Field>
      <Check
        id="conn-sha1"
        label="Accept SHA-1 signatures (legacy IdPs only)"
        checked={value.allowSha1}
        onChange={(v) => set('allowSha1', v)}
        hint="SHA-1 is broken for signatures: leave this off unless the IdP cannot sign with SHA-256."
      />
      <fieldset>
        <legend>People over time</legend>
        <Field
          id="conn-identity-key"
          label="Bind users by"
          hint="A stable attribute keeps a renamed person (new UPN or email) the same user, with the same seats."
          error={err('identityKey')}
        >
          <select
            id="conn-identity-key"
            value={value.identityKey}
            onChange={(e) => set('identityKey', e.target.value as ConnectionOptionsValue['identityKey'])}
            {...described('conn-identity-key', err('identityKey'), 'x')}
          >
            <option value="NAME_ID">NameID</option>
            <option value="ATTRIBUTE">An attribute (Entra: the object id)</option>
          </select>
        </Field>
        {value.identityKey === 'ATTRIBUTE' ? (
          <Field
            id="conn-identity-attr"
            label="Identity attribute"
            hint={`Entra: ${ENTRA_OBJECT_ID}`}
            error={err('identityKeyAttribute')}
          >
            <input
              id="conn-identity-attr"
              value={value.identityKeyAttribute}
              placeholder={ENTRA_OBJECT_ID}
              onChange={(e) => set('identityKeyAttribute', e.target.value)}
              {...described('conn-identity-attr', err('identityKeyAttribute'), 'x')}
            />
          </Field>
        ) : null}
        <Field
          id="conn-link"
          label="Link a first sign-in to an existing user by"
          hint="For users created before (createUser, SCIM, an earlier connection); never: always a new user."
          error={err('linkPolicy')}
        >
          <select
            id="conn-link"
            value={value.linkPolicy}
            onChange={(e) => set('linkPolicy', e.target.value as ConnectionOptionsValue['linkPolicy'])}
            {...described('conn-link', err('linkPolicy'), 'x')}
          >
            <option value="USERNAME">Username</option>
            <option value="EMAIL">Email</option>
            <option value="NEVER">Never</option>
          </select>
        </Field>
        <Field
          id="conn-inactivity-days"
          label="Act on users inactive for (days)"
          hint="Empty: never. Checked every hour on the server."
          error={err('inactivityDays')}
        >
          <input
            id="conn-inactivity-days"
            type="number"
            min={1}
            value={value.inactivityDays}
            onChange={(e) => set('inactivityDays', e.target.value)}
            {...described('conn-inactivity-days', err('inactivityDays'), 'x')}
          />
        </Field>
        <Field id="conn-inactivity-action" label="What to do with them" error={err('inactivityAction')}>
          <select
            id="conn-inactivity-action"
            value={value.inactivityAction}
            onChange={(e) =>
              set('inactivityAction', e.target.value as ConnectionOptionsValue['inactivityAction'])
            }
          >
            <option value="BLOCK_AND_RELEASE">Block them and give back their seats</option>
            <option value="BLOCK">Block them</option>
            <option value="RELEASE_SEATS">Give back their seats only</option>
          </select>
        </Field>
      </fieldset>
      <fieldset>
        <legend>SCIM provisioning</legend>
        <Check
          id="conn-scim"
          label="Accept SCIM 2.0 provisioning"
          checked={value.scimEnabled}
          onChange={(v) => set('scimEnabled', v)}
          hint="The IdP creates, updates and deactivates users ahead of their sign-in, with this connection's SCIM tokens."
        />
        <Field
          id="conn-scim-deprovision"
          label="When SCIM deactivates or deletes a user"
          error={err('scimDeprovision')}
        >
          <select
            id="conn-scim-deprovision"
            value={value.scimDeprovision}
            onChange={(e) =>
              set('scimDeprovision', e.target.value as ConnectionOptionsValue['scimDeprovision'])
            }
          >
            <option value="BLOCK_AND_RELEASE">Block them and give back their seats</option>
            <option value="BLOCK">Block them, keep their seats</option>
          </select>
        </Field>
      </fieldset>
    </fieldset>
  );
}
