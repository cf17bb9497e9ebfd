/**
 * `/v1/resource_type[/<name>]` (api.md §7), learnt from upstream `ResourceTypesController` and
 * `ResourceTypeController` (JSON patch of `/attributes`, re-validated with the update schema).
 */

import type { JsonObject, JsonValue } from '../../compat/json.ts'
import type { ResourceAttributeChange, ResourceAttributeSchema, ResourceType } from '../../domain/resource.ts'
import { jsonReply, NO_CONTENT, type Reply, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import {
  type AttributeDefinition,
  attributeSchemaJson,
  buildAttribute,
  InvalidAttributeError,
  invalidInputText,
  parseAttributeDefinitions,
  resourceTypeJson,
} from '../resource-json.ts'
import { route } from '../router.ts'
import { Invalid, isPlainObject, type Path } from '../validation.ts'
import { enforce, locationHeader, readJson } from './_common.ts'

async function lookupType(ctx: RequestContext, name: string): Promise<ResourceType> {
  const rt = await ctx.deps.indexer.getResourceType(name)
  if (!rt) throw new HttpError(404, `Resource type ${name} does not exist`)
  return rt
}

/** The creation schema `{"name": str, Required("attributes", default={}): {...}}`. */
function parseCreateBody(raw: unknown): { name: string; attributes: AttributeDefinition[] } {
  if (!isPlainObject(raw)) throw new Invalid('expected a dictionary', []).toHttpError()
  let first: Invalid | undefined
  let metas: unknown = {}
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'name') {
      if (typeof value !== 'string') first ??= new Invalid('expected str', ['name'], 'dictionary value')
    } else if (key === 'attributes') metas = value
    else first ??= new Invalid('extra keys not allowed', [key])
  }
  let attributes: AttributeDefinition[] = []
  try {
    attributes = parseAttributeDefinitions(metas, ['attributes'], false)
  } catch (e) {
    if (e instanceof InvalidAttributeError) {
      if (first) throw first.toHttpError()
      throw invalidInputText(e)
    }
    if (!(e instanceof Invalid)) throw e
    first ??= e
  }
  if (first) throw first.toHttpError()
  // NOTE: upstream crashes (500) without a name; we say it is required.
  if (typeof raw.name !== 'string') throw new Invalid('required key not provided', ['name']).toHttpError()
  return { name: raw.name, attributes }
}

function attributesRecord(defs: readonly AttributeDefinition[]): Record<string, ResourceAttributeSchema> {
  const out: Record<string, ResourceAttributeSchema> = {}
  for (const d of defs) out[d.name] = d.schema
  return out
}

// ------------------------------------------------------------------ JSON patch (RFC 6902 subset)

interface PatchOp {
  readonly op: 'add' | 'remove'
  readonly path: string
  readonly value?: Record<string, unknown>
}

/** Upstream `ResourceTypeJsonPatchSchema`: `[{"op": add|remove, "path": /attributes..., "value"?: dict}]`. */
function parsePatch(raw: unknown): PatchOp[] {
  const fail = (msg: string, path: Path, errorType?: string): never => {
    throw new Invalid(msg, path, errorType).toHttpError()
  }
  if (!Array.isArray(raw)) return fail('expected a list', [])
  return raw.map((item, i) => {
    if (!isPlainObject(item)) return fail('expected a dictionary', [i])
    for (const [k, v] of Object.entries(item)) {
      if (k === 'op') {
        if (v !== 'add' && v !== 'remove') fail('not a valid value', [i, 'op'], 'dictionary value')
      } else if (k === 'path') {
        if (typeof v !== 'string' || !v.startsWith('/attributes'))
          fail('not a valid value', [i, 'path'], 'dictionary value')
      } else if (k === 'value') {
        if (!isPlainObject(v)) fail('expected dict', [i, 'value'], 'dictionary value')
      } else fail('extra keys not allowed', [i, k])
    }
    if (!('op' in item)) fail('required key not provided', [i, 'op'])
    if (!('path' in item)) fail('required key not provided', [i, 'path'])
    return item as unknown as PatchOp
  })
}

/** RFC 6901 pointer → keys (`~1` → `/`, `~0` → `~`). */
function pointerParts(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** python-jsonpatch `apply_patch` on plain JSON objects (dict targets only here). */
function applyPatch(doc: Record<string, unknown>, ops: readonly PatchOp[]): Record<string, unknown> {
  const root = structuredClone(doc)
  for (const op of ops) {
    const parts = pointerParts(op.path)
    const last = parts.pop() as string
    let target: unknown = root
    for (const part of parts) {
      if (!isPlainObject(target) || !Object.hasOwn(target, part)) {
        throw new HttpError(400, `member '${part}' not found in ${pyReprShort(target)}`)
      }
      target = target[part]
    }
    if (!isPlainObject(target)) throw new HttpError(400, `can't apply the patch to a non-object`)
    if (op.op === 'remove') {
      if (!Object.hasOwn(target, last))
        throw new HttpError(400, `can't remove a non-existent object '${last}'`)
      delete target[last]
    } else {
      if (!('value' in op)) throw new HttpError(400, "The operation does not contain a 'value' member")
      target[last] = structuredClone(op.value)
    }
  }
  return root
}

function pyReprShort(v: unknown): string {
  return JSON.stringify(v) ?? 'None'
}

/** `for_update` schema of the patched type: `{name: str, attributes: {...}}`, `options` allowed. */
function validatePatched(doc: Record<string, unknown>): Array<[string, Record<string, unknown>]> {
  const invalid = (e: Invalid): never => {
    throw invalidInputText(e)
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'name' && key !== 'attributes') invalid(new Invalid('extra keys not allowed', [key]))
  }
  const attributes = doc.attributes ?? {}
  if (!isPlainObject(attributes))
    return invalid(new Invalid('expected a dictionary', ['attributes'], 'dictionary value'))
  const out: Array<[string, Record<string, unknown>]> = []
  for (const [name, def] of Object.entries(attributes)) {
    try {
      // Validate one attribute at a time with the meta schema only (no name/fill checks yet).
      parseMetaOnly(def, ['attributes', name])
    } catch (e) {
      if (e instanceof Invalid) invalid(e)
      throw e
    }
    out.push([name, { required: true, options: {}, ...(def as Record<string, unknown>) }])
  }
  return out
}

function parseMetaOnly(def: unknown, path: Path): void {
  // parseAttributeDefinitions also builds the attribute; only its voluptuous part is wanted here.
  try {
    parseAttributeDefinitions({ [String(path[path.length - 1])]: def }, path.slice(0, -1), true)
  } catch (e) {
    if (e instanceof InvalidAttributeError) return
    throw e
  }
}

/** Fills in the meta-schema defaults (`min_length` 0, `max_length` 256, `min`/`max` null). */
function withDefaults(def: Record<string, unknown>): Record<string, unknown> {
  if (def.type === 'string') return { min_length: 0, max_length: 256, ...def }
  if (def.type === 'number') return { min: null, max: null, ...def }
  return def
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'boolean' && typeof b === 'number' && Number(a) === b)
}

async function patchType(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupType(ctx, ctx.params.name)
  enforce(ctx, 'update resource type', resourceTypeJson(rt) as Record<string, unknown>)
  const ops = parsePatch(readJson(ctx, ['application/json-patch+json']))
  const current = resourceTypeJson(rt) as Record<string, unknown>
  const next = applyPatch(current, ops)
  delete next.state
  const nextAttrs = validatePatched(next).map(([n, d]) => [n, withDefaults(d)] as const)
  const currentAttrs = rt.attributes
  const nextByName = new Map(nextAttrs)
  const added = nextAttrs.filter(([n]) => !Object.hasOwn(currentAttrs, n))
  const removed = Object.keys(currentAttrs).filter((n) => !nextByName.has(n))
  const updated: Array<[string, Record<string, unknown>]> = []
  for (const [name, schema] of Object.entries(currentAttrs)) {
    const nextDef = nextByName.get(name)
    if (!nextDef) continue
    if (nextDef.type !== schema.type) {
      throw new HttpError(
        400,
        `Type update is not available yet. Changing ${schema.type} to ${String(nextDef.type)} for attribute ${name} of resource ${rt.name}`,
      )
    }
    const old = attributeSchemaJson(schema) as JsonObject
    if (Object.entries(old).some(([k, v]) => !sameValue(nextDef[k], v as JsonValue)))
      updated.push([name, nextDef])
  }
  if (added.length === 0 && removed.length === 0 && updated.length === 0) {
    return jsonReply(200, resourceTypeJson(rt))
  }
  let add: ResourceAttributeChange[]
  let update: ResourceAttributeChange[]
  try {
    add = added.map(([n, d]) => toChange(buildAttribute(n, d, true)))
    update = [...updated]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([n, d]) => toChange(buildAttribute(n, d, true)))
  } catch (e) {
    if (e instanceof InvalidAttributeError) throw invalidInputText(e)
    throw e
  }
  const result = await ctx.deps.indexer.updateResourceType(rt.name, { add, remove: removed, update })
  return jsonReply(200, resourceTypeJson(result))
}

function toChange(def: AttributeDefinition): ResourceAttributeChange {
  const fill = def.options?.fill
  return fill === undefined
    ? { name: def.name, schema: def.schema }
    : { name: def.name, schema: def.schema, fill: fill as never }
}

export const resourceTypeRoutes = [
  route('/v1/resource_type', {
    GET: async (ctx) => {
      enforce(ctx, 'list resource type', {})
      const types = await ctx.deps.indexer.listResourceTypes()
      return jsonReply(
        200,
        types.map((t) => resourceTypeJson(t)),
      )
    },
    POST: async (ctx) => {
      const raw = readJson(ctx)
      const { name, attributes } = parseCreateBody(raw)
      // Upstream's target is the validated body: the attributes as given, state `creating`.
      const given = (raw as Record<string, unknown>).attributes
      enforce(ctx, 'create resource type', {
        name,
        attributes: isPlainObject(given) ? given : {},
        state: 'creating',
      })
      const rt = await ctx.deps.indexer.createResourceType(name, attributesRecord(attributes))
      return jsonReply(201, resourceTypeJson(rt), locationHeader(ctx, `/resource_type/${rt.name}`))
    },
  }),
  route('/v1/resource_type/:name', {
    GET: async (ctx) => {
      const rt = await lookupType(ctx, ctx.params.name)
      enforce(ctx, 'get resource type', resourceTypeJson(rt) as Record<string, unknown>)
      return jsonReply(200, resourceTypeJson(rt))
    },
    PATCH: patchType,
    DELETE: async (ctx) => {
      const rt = await lookupType(ctx, ctx.params.name)
      // Upstream passes the `resource_type` module by mistake (its attributes, not the type's).
      enforce(ctx, 'delete resource type', {})
      await ctx.deps.indexer.deleteResourceType(rt.name)
      return NO_CONTENT
    },
  }),
]
