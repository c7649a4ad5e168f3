import { type Schema, Validator } from '@cfworker/json-schema';
import {
  type RJSFSchema,
  type RJSFValidationError,
  toErrorSchema,
  type ValidationData,
  type ValidatorType,
} from '@rjsf/utils';

/**
 * The form library's validator port, filled by @cfworker/json-schema. rjsf's own validator (Ajv)
 * compiles schemas to code with `new Function`, which the console's CSP (no 'unsafe-eval')
 * forbids; cfworker interprets the schema instead (draft 2020-12, what the plugins publish). The
 * server checks parameters again when a mapping is written; this only guides the form.
 */
function check(schema: RJSFSchema, data: unknown): RJSFValidationError[] {
  const result = new Validator(schema as Schema, '2020-12', false).validate(data ?? {});
  return result.errors
    .filter((e) => !['properties', 'allOf', 'anyOf', 'oneOf', 'additionalProperties'].includes(e.keyword))
    .map((e) => {
      const property = e.instanceLocation.replace(/^#/, '').split('/').filter(Boolean).join('.');
      return {
        name: e.keyword,
        property: property ? `.${property}` : '',
        message: e.error,
        stack: `${property || 'value'}: ${e.error}`,
        schemaPath: e.keywordLocation,
      };
    });
}

export const validator: ValidatorType = {
  validateFormData(formData, schema): ValidationData<unknown> {
    const errors = check(schema, formData);
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  isValid(schema, formData) {
    try {
      return check(schema, formData).length === 0;
    } catch {
      return false;
    }
  },
  rawValidation<Result>(schema: RJSFSchema, formData?: unknown) {
    try {
      return { errors: check(schema, formData) as Result[] };
    } catch (e) {
      return { validationError: e as Error };
    }
  },
};

export default validator;
