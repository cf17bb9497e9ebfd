/** UUID parsing as Python's `uuid.UUID(str)` and upstream's `ResourceUUID` mapping (api.md §0.7). */
import { createHash } from 'node:crypto'

/** Lowercase hyphenated form, or undefined when Python's `uuid.UUID()` would reject it. */
export function parseUuid(value: string): string | undefined {
  const hex = value
    .replaceAll('urn:', '')
    .replaceAll('uuid:', '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replaceAll('-', '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined
  const h = hex.toLowerCase()
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const RESOURCE_ID_NAMESPACE = Buffer.from('0a7a15ffaa134ac2897c9bdf30ce175b', 'hex')

/** Python `uuid.uuid5(namespace, name)`. */
export function uuid5(namespace: Buffer, name: string): string {
  const digest = createHash('sha1').update(namespace).update(Buffer.from(name, 'utf8')).digest()
  const b = digest.subarray(0, 16)
  b[6] = (b[6] & 0x0f) | 0x50
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export class ResourceIdError extends Error {
  override name = 'ResourceIdError'
}

/** Upstream `utils.ResourceUUID`: a UUID as is, else UUIDv5 of `value \0 creator`. */
export function resourceUuid(value: string, creator: string | null): string {
  if (value.includes('/')) throw new ResourceIdError("'/' is not supported in resource id")
  const parsed = parseUuid(value)
  if (parsed) return parsed
  if ([...value].length > 289)
    throw new ResourceIdError('transformable resource id >289 max allowed characters')
  return uuid5(RESOURCE_ID_NAMESPACE, `${value}\x00${creator ?? '\x00'}`)
}
