/**
 * Resources and resource types on the wire (api.md §7–§8): JSON shapes, ETag/Last-Modified,
 * and the voluptuous-style validation of attribute definitions (upstream resource_type.py)
 * and attribute values.
 */
import { createHash } from 'node:crypto'
import { encodeJson, type JsonObject, type JsonValue, PyFloat } from '../compat/json.ts'
import { ConversionError } from '../compat/timespan.ts'
import { formatIsoMicros, parseTimestampNs } from '../compat/timestamp.ts'
import { parseUuid } from '../compat/uuid.ts'
import type { AttributeValue, Resource, ResourceAttributeSchema, ResourceType } from '../domain/resource.ts'
import { isValidAttributeName } from '../domain/resource.ts'
import { splitCreator } from './auth.ts'
import { HttpError } from './errors.ts'
import { Invalid, isPlainObject, type Path } from './validation.ts'

// ------------------------------------------------------------------ resource types

/** `ResourceType.jsonify()` attribute definition (upstream key order). */
export function attributeSchemaJson(a: ResourceAttributeSchema): JsonObject {
  switch (a.type) {
    case 'string':
      return { type: a.type, required: a.required, max_length: a.maxLength, min_length: a.minLength }
    case 'number':
      return { type: a.type, required: a.required, min: a.min, max: a.max }
    default:
      return { type: a.type, required: a.required }
  }
}

export function resourceTypeJson(rt: ResourceType): JsonObject {
  const attributes: Record<string, JsonValue> = {}
  for (const [name, a] of Object.entries(rt.attributes)) attributes[name] = attributeSchemaJson(a)
  return { name: rt.name, attributes, state: rt.state }
}

const ATTRIBUTE_TYPES = ['string', 'uuid', 'number', 'bool', 'datetime'] as const

/** Python `int` check (`bool` is an `int` in Python). */
function isPyInt(v: unknown): v is number | boolean {
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v))
}

/** `numbers.Real` (bools included). */
function isReal(v: unknown): v is number | boolean {
  return typeof v === 'boolean' || typeof v === 'number'
}

function num(v: number | boolean): number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v
}

/** Python `str()` of a number in messages (`5`, `-2.3`). */
function pyNumStr(v: number): string {
  return encodeJson(v)
}

export class InvalidAttributeError extends Error {
  override name = 'InvalidAttributeError'
}

/** A validated attribute definition; `fill` only in update mode (`options.fill`). */
export interface AttributeDefinition {
  readonly name: string
  readonly schema: ResourceAttributeSchema
  /** `options` was given (update schema): the fill rules apply. */
  readonly options?: { readonly fill?: unknown }
}

/**
 * The meta schema of one attribute definition (`{type, required, ...}`, `options` in update
 * mode): voluptuous `Any` over the type schemas, reported for the declared type.
 */
function attributeMetaSchema(v: unknown, path: Path, forUpdate: boolean): Record<string, unknown> {
  if (!isPlainObject(v)) throw new Invalid('expected a dictionary', path, 'dictionary value')
  const type = v.type
  const known = typeof type === 'string' && (ATTRIBUTE_TYPES as readonly string[]).includes(type)
  const out: Record<string, unknown> = {}
  const allowed = new Set(['type', 'required'])
  if (forUpdate) allowed.add('options')
  if (type === 'string' || !known) {
    allowed.add('min_length')
    allowed.add('max_length')
  }
  if (type === 'number') {
    allowed.add('min')
    allowed.add('max')
  }
  for (const [key, value] of Object.entries(v)) {
    const keyPath = [...path, key]
    if (!allowed.has(key)) throw new Invalid('extra keys not allowed', keyPath)
    if (key === 'type') {
      if (!known) throw new Invalid('not a valid value', keyPath, 'dictionary value')
    } else if (key === 'required') {
      if (typeof value !== 'boolean') throw new Invalid('expected bool', keyPath, 'dictionary value')
    } else if (key === 'min_length' || key === 'max_length') {
      if (!isPyInt(value)) throw new Invalid('expected int', keyPath, 'dictionary value')
      const n = num(value)
      const min = key === 'min_length' ? 0 : 1
      if (n < min) throw new Invalid(`value must be at least ${min}`, keyPath, 'dictionary value')
      if (n > 256) throw new Invalid('value must be at most 256', keyPath, 'dictionary value')
    } else if (key === 'min' || key === 'max') {
      if (value !== null && !isReal(value))
        throw new Invalid('not a valid value', keyPath, 'dictionary value')
    } else if (key === 'options') {
      if (!isPlainObject(value)) throw new Invalid('expected a dictionary', keyPath, 'dictionary value')
      for (const k of Object.keys(value)) {
        if (k !== 'fill') throw new Invalid('extra keys not allowed', [...keyPath, k])
      }
    }
    out[key] = value
  }
  if (!('type' in v)) throw new Invalid('required key not provided', [...path, 'type'])
  return out
}

/**
 * Upstream `ResourceTypeSchemaManager` + `attributes_from_dict` for a whole `attributes`
 * object: voluptuous errors as Invalid, attribute errors (`Resource attribute name ... is
 * invalid`, min > max) as InvalidAttributeError.
 */
export function parseAttributeDefinitions(
  attributes: unknown,
  path: Path,
  forUpdate: boolean,
): AttributeDefinition[] {
  if (!isPlainObject(attributes)) throw new Invalid('expected a dictionary', path, 'dictionary value')
  const metas: Array<[string, Record<string, unknown>]> = []
  for (const [name, def] of Object.entries(attributes)) {
    metas.push([name, attributeMetaSchema(def, [...path, name], forUpdate)])
  }
  return metas.map(([name, meta]) => buildAttribute(name, meta, forUpdate))
}

/** `CommonAttributeSchema.__init__` and the type-specific checks, in upstream's order. */
export function buildAttribute(
  name: string,
  meta: Record<string, unknown>,
  forUpdate: boolean,
): AttributeDefinition {
  const required = (meta.required as boolean | undefined) ?? true
  const type = meta.type as ResourceAttributeSchema['type']
  let schema: ResourceAttributeSchema
  if (type === 'string') {
    const minLength = num((meta.min_length as number | boolean | undefined) ?? 0)
    const maxLength = num((meta.max_length as number | boolean | undefined) ?? 256)
    if (minLength > maxLength) throw minMaxError(minLength, maxLength)
    schema = { type, required, minLength, maxLength }
  } else if (type === 'number') {
    const min = meta.min === undefined || meta.min === null ? null : num(meta.min as number | boolean)
    const max = meta.max === undefined || meta.max === null ? null : num(meta.max as number | boolean)
    if (min !== null && max !== null && min > max) throw minMaxError(min, max)
    schema = { type, required, min, max }
  } else schema = { type, required }
  // A NUL passes upstream's prefix-matching rule but no SQL engine takes it in a column name.
  if (!isValidAttributeName(name) || name.includes('\0')) {
    throw new InvalidAttributeError(`Resource attribute name ${name} is invalid`)
  }
  if (!forUpdate) return { name, schema }
  const options = (meta.options as { fill?: unknown } | undefined) ?? {}
  const fill = options.fill
  if ((fill === undefined || fill === null) && required) {
    throw optionError(name, 'must not be empty if required=True')
  }
  if (fill !== undefined && fill !== null) {
    try {
      return { name, schema, options: { fill: validateAttributeValue(schema, fill, []) } }
    } catch (e) {
      if (e instanceof Invalid) throw optionError(name, e.toString())
      throw e
    }
  }
  return { name, schema, options: {} }
}

function minMaxError(min: number, max: number): InvalidAttributeError {
  return new InvalidAttributeError(
    `Resource attribute value min (or min_length) ${pyNumStr(min)} must be less  than or equal to max (or max_length) ${pyNumStr(max)}!`,
  )
}

function optionError(name: string, reason: string): InvalidAttributeError {
  return new InvalidAttributeError(`Option 'fill' of resource attribute ${name} is invalid: ${reason}`)
}

/** The attribute's value schema (`schema_ext`): the stored value, or Invalid. */
export function validateAttributeValue(a: ResourceAttributeSchema, v: unknown, path: Path): AttributeValue {
  switch (a.type) {
    case 'string': {
      if (typeof v !== 'string') throw new Invalid('expected str', path)
      const len = [...v].length
      if (len < a.minLength) throw new Invalid(`length of value must be at least ${a.minLength}`, path)
      if (len > a.maxLength) throw new Invalid(`length of value must be at most ${a.maxLength}`, path)
      return v
    }
    case 'uuid': {
      if (typeof v !== 'string') {
        throw new Invalid('one of the hex, bytes, bytes_le, fields, or int arguments must be given', path)
      }
      const id = parseUuid(v)
      if (id === undefined) throw new Invalid('badly formed hexadecimal UUID string', path)
      return id
    }
    case 'number': {
      if (!isReal(v)) throw new Invalid('expected Real', path)
      const n = num(v)
      if (a.min !== null && n < a.min) throw new Invalid(`value must be at least ${pyNumStr(a.min)}`, path)
      if (a.max !== null && n > a.max) throw new Invalid(`value must be at most ${pyNumStr(a.max)}`, path)
      return n
    }
    case 'bool':
      if (typeof v !== 'boolean') throw new Invalid('expected bool', path)
      return v
    case 'datetime':
      try {
        return parseTimestampNs(v)
      } catch (e) {
        if (e instanceof ConversionError) throw new Invalid(e.message, path)
        if (e instanceof TypeError) throw new Invalid('Unable to convert timestamps', path)
        throw e
      }
  }
}

/** `abort(400, "Invalid input: %s" % e)` of the resource type endpoints. */
export function invalidInputText(e: Invalid | InvalidAttributeError): HttpError {
  return new HttpError(400, `Invalid input: ${e instanceof Invalid ? e.toString() : e.message}`)
}

// ------------------------------------------------------------------ resources

/** A number attribute is a float column upstream (`1.0`). */
function attributeJson(v: AttributeValue): JsonValue {
  if (typeof v === 'bigint') return formatIsoMicros(v)
  if (typeof v === 'number') return new PyFloat(v)
  return v
}

/**
 * `Resource.jsonify(attrs)`: generic columns, the type's attributes, `revision_end`,
 * `metrics` (unless omitted, as when embedded in a metric), then the derived creator fields;
 * restricted to `attrs` when given.
 */
export function resourceJson(
  r: Resource,
  options: { withMetrics?: boolean; attrs?: readonly string[] } = {},
): JsonObject {
  const { userId, projectId } = splitCreator(r.creator)
  const out: Record<string, JsonValue> = {
    id: r.id,
    creator: r.creator,
    started_at: formatIsoMicros(r.startedAtNs),
    revision_start: formatIsoMicros(r.revisionStartNs),
    ended_at: r.endedAtNs === null ? null : formatIsoMicros(r.endedAtNs),
    user_id: r.userId,
    project_id: r.projectId,
    original_resource_id: r.originalResourceId,
    type: r.type,
  }
  for (const [k, v] of Object.entries(r.attributes)) out[k] = attributeJson(v)
  out.revision_end = r.revisionEndNs === null ? null : formatIsoMicros(r.revisionEndNs)
  if (options.withMetrics ?? true) {
    const metrics: Record<string, string> = {}
    for (const name of Object.keys(r.metrics)) metrics[name] = r.metrics[name]
    out.metrics = metrics
  }
  out.created_by_user_id = userId
  out.created_by_project_id = projectId
  const attrs = options.attrs
  if (attrs && attrs.length > 0) {
    const filtered: Record<string, JsonValue> = {}
    for (const [k, v] of Object.entries(out)) if (attrs.includes(k)) filtered[k] = v
    return filtered
  }
  return out
}

/** The resource as a policy target (upstream: its JSON, flattened by `enforce`). */
export function resourcePolicyTarget(r: Resource): Record<string, unknown> {
  return resourceJson(r) as Record<string, unknown>
}

/** Upstream `Resource.etag`: sha1(str(id) + revision_start.isoformat()), quoted. */
export function resourceEtag(r: Resource): string {
  const h = createHash('sha1').update(r.id, 'utf8').update(formatIsoMicros(r.revisionStartNs), 'utf8')
  return `"${h.digest('hex')}"`
}

/** `revision_start` truncated to the second, in seconds since the epoch. */
export function resourceLastModifiedSeconds(r: Resource): number {
  return Number(r.revisionStartNs / 1_000_000_000n)
}

/** `ETag` and `Last-Modified` response headers of a resource. */
export function resourceEtagHeaders(r: Resource): Record<string, string> {
  return {
    etag: resourceEtag(r),
    'last-modified': new Date(resourceLastModifiedSeconds(r) * 1000).toUTCString(),
  }
}
