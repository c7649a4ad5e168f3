import type { FailurePolicy, MappingKind, MultiValuePolicy, WritePolicy } from './mapping.entity.js';

/** The part of a stored mapping the engine needs. */
export interface MappingRule {
  id: string;
  kind: MappingKind;
  attributeName?: string | null;
  column: string;
  plugin?: string | null;
  params?: Record<string, unknown> | null;
  required: boolean;
  defaultValue?: string | string[] | null;
  multiValue: MultiValuePolicy;
  separator: string;
  writePolicy: WritePolicy;
  onFailure: FailurePolicy;
}
