/**
 * Resources and resource types (api.md §7–8, architecture.md §5). Timestamps are int64
 * nanoseconds since the epoch (bigint) with microsecond precision, as everywhere else.
 */

export type ResourceTypeState =
  | 'active'
  | 'creating'
  | 'creation_error'
  | 'deleting'
  | 'deletion_error'
  | 'updating'
  | 'updating_error'

/**
 * One attribute of a resource type, as upstream `resource_type.py` stores it (JSON keys
 * `min_length`/`max_length` for strings, `min`/`max` for numbers). `required` defaults to
 * true in the API schema; the indexer always receives it explicitly.
 */
export type ResourceAttributeSchema =
  | {
      readonly type: 'string'
      readonly required: boolean
      readonly minLength: number
      readonly maxLength: number
    }
  | { readonly type: 'uuid'; readonly required: boolean }
  | {
      readonly type: 'number'
      readonly required: boolean
      readonly min: number | null
      readonly max: number | null
    }
  | { readonly type: 'bool'; readonly required: boolean }
  | { readonly type: 'datetime'; readonly required: boolean }

export type ResourceAttributeType = ResourceAttributeSchema['type']

/**
 * Value of a type attribute: string → string, uuid → lowercase hyphenated string, number →
 * number, bool → boolean, datetime → bigint ns. `null` when unset.
 */
export type AttributeValue = string | number | boolean | bigint | null

export interface ResourceType {
  readonly name: string
  /** In insertion order (upstream keeps the JSON order). */
  readonly attributes: Readonly<Record<string, ResourceAttributeSchema>>
  readonly state: ResourceTypeState
  /** `rt_<uuid hex>`, or `generic` for the built-in type. */
  readonly tablename: string
  readonly updatedAtNs: bigint
}

/** A type attribute in a resource type update: `fill` sets existing rows (api.md §7.3). */
export interface ResourceAttributeChange {
  readonly name: string
  readonly schema: ResourceAttributeSchema
  /** Already validated against `schema` by the caller; `undefined` = no fill. */
  readonly fill?: AttributeValue
}

export interface ResourceTypeUpdate {
  /** New attributes (columns added to both tables, rows get `fill` or NULL). */
  readonly add?: readonly ResourceAttributeChange[]
  /** Attributes to drop (unknown names are ignored). */
  readonly remove?: readonly string[]
  /** Same name, same type: required flag / bounds change; `fill` replaces NULLs first. */
  readonly update?: readonly ResourceAttributeChange[]
}

/** Generic columns shared by every resource type (the `resource` table). */
export const GENERIC_RESOURCE_COLUMNS = [
  'id',
  'type',
  'creator',
  'started_at',
  'revision_start',
  'ended_at',
  'user_id',
  'project_id',
  'original_resource_id',
] as const

/** Attribute names a resource type may not use (upstream `INVALID_NAMES`). */
export const INVALID_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
  'id',
  'type',
  'metrics',
  'revision',
  'revision_start',
  'revision_end',
  'started_at',
  'ended_at',
  'user_id',
  'project_id',
  'created_by_user_id',
  'created_by_project_id',
  'get_metric',
  'creator',
])

/** Upstream `VALID_CHARS`, applied with `re.match` (prefix match — api.md §7.1 QUIRK). */
export const VALID_ATTRIBUTE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_]*/

/**
 * Upstream's attribute name check (a prefix match), plus no NUL: no engine can name a column
 * with one (upstream: 500 on PostgreSQL). The indexer re-checks before any DDL.
 */
export function isValidAttributeName(name: string): boolean {
  return (
    name.length <= 63 &&
    !INVALID_ATTRIBUTE_NAMES.has(name) &&
    VALID_ATTRIBUTE_NAME.test(name) &&
    !name.includes('\0')
  )
}

export interface Resource {
  /** Lowercase hyphenated UUID. */
  readonly id: string
  readonly originalResourceId: string
  readonly type: string
  readonly creator: string | null
  readonly userId: string | null
  readonly projectId: string | null
  readonly startedAtNs: bigint
  readonly endedAtNs: bigint | null
  readonly revisionStartNs: bigint
  /** `null` for the current revision. */
  readonly revisionEndNs: bigint | null
  /** `resource_history.revision`, or -1 for the current row (history marker `<id>@<revision>`). */
  readonly revision: number
  /**
   * Type attributes: those of the listed type, or of the resource's own type with
   * `details`. Every attribute of that type is present (null when unset).
   */
  readonly attributes: Readonly<Record<string, AttributeValue>>
  /** Current active metrics, name → metric id (also on history rows: metrics are not versioned). */
  readonly metrics: Readonly<Record<string, string>>
}

/** A value of a `metrics` map (api.md §8.4): attach an existing metric, or create one. */
export type ResourceMetricSpec =
  | { readonly kind: 'existing'; readonly id: string }
  | {
      readonly kind: 'new'
      /** Already resolved (explicit or through the archive policy rules) by the caller. */
      readonly archivePolicyName: string
      readonly unit: string | null
      /** Defaults to a random UUID. */
      readonly id?: string
    }

export interface NewResource {
  readonly id: string
  readonly originalResourceId: string
  readonly type: string
  readonly creator: string
  readonly userId: string | null
  readonly projectId: string | null
  /** Defaults to now (also the first `revision_start`). */
  readonly startedAtNs?: bigint
  readonly endedAtNs?: bigint | null
  /** Type attributes, already validated by the caller against the type's schema. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>
  readonly metrics?: Readonly<Record<string, ResourceMetricSpec>>
}

/** Fields absent (undefined) are left unchanged. */
export interface ResourcePatch {
  readonly userId?: string | null
  readonly projectId?: string | null
  readonly startedAtNs?: bigint
  readonly endedAtNs?: bigint | null
  readonly attributes?: Readonly<Record<string, AttributeValue>>
  /** Replaces the whole mapping: unlisted metrics are detached (not deleted). */
  readonly metrics?: Readonly<Record<string, ResourceMetricSpec>>
}
