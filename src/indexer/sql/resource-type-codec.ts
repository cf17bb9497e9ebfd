/** The `resource_type` row: attribute definitions as upstream stores them, and their names. */
import { GnocchiError } from '../../domain/errors.ts'
import {
  isValidAttributeName,
  type ResourceAttributeSchema,
  type ResourceType,
  type ResourceTypeState,
} from '../../domain/resource.ts'
import type { Row } from './context.ts'
import { decodeTime } from './engine.ts'

/** The built-in type every resource is of; it has no tables of its own. */
export const GENERIC = 'generic'

/** Columns of `resource_type` read into a ResourceType. */
export const TYPE_COLUMNS = ['name', 'tablename', 'attributes', 'state', 'updated_at']

export function toResourceType(row: Row): ResourceType {
  return {
    name: String(row.name),
    attributes: decodeAttributes(row.attributes),
    state: row.state as ResourceTypeState,
    tablename: String(row.tablename),
    updatedAtNs: decodeTime(row.updated_at),
  }
}

/** Python `json.dumps` of upstream's attribute definitions (insertion order, `", "` / `": "`). */
export function encodeAttributes(attributes: Readonly<Record<string, ResourceAttributeSchema>>): string {
  const parts = Object.entries(attributes).map(([name, s]) => {
    const fields: Array<[string, unknown]> = [
      ['type', s.type],
      ['required', s.required],
    ]
    if (s.type === 'string') fields.push(['max_length', s.maxLength], ['min_length', s.minLength])
    if (s.type === 'number') fields.push(['min', s.min], ['max', s.max])
    const body = fields.map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')
    return `${JSON.stringify(name)}: {${body}}`
  })
  return `{${parts.join(', ')}}`
}

function pyJson(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v)
  return JSON.stringify(v)
}

export function decodeAttributes(raw: unknown): Record<string, ResourceAttributeSchema> {
  const obj = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {})) as Record<
    string,
    Record<string, unknown>
  >
  const out: Record<string, ResourceAttributeSchema> = {}
  for (const [name, a] of Object.entries(obj)) {
    const required = a.required !== false
    switch (a.type) {
      case 'string':
        out[name] = {
          type: 'string',
          required,
          minLength: Number(a.min_length ?? 0),
          maxLength: Number(a.max_length ?? 255),
        }
        break
      case 'number':
        out[name] = {
          type: 'number',
          required,
          min: (a.min as number | null) ?? null,
          max: (a.max as number | null) ?? null,
        }
        break
      case 'uuid':
      case 'bool':
      case 'datetime':
        out[name] = { type: a.type, required }
        break
      default:
        throw new Error(`BUG: unknown attribute type ${String(a.type)} for ${name}`)
    }
  }
  return out
}
/** Upstream's rule (prefix match, so `new-optional-bool` passes); names are always quoted. */
export function assertAttributeName(name: string): void {
  if (!isValidAttributeName(name) || name.includes('\0')) {
    throw new GnocchiError(`Resource attribute name ${name} is invalid`)
  }
}
