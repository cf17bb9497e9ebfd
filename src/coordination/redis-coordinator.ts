import { randomUUID } from 'node:crypto'
import type { ChainableCommander, Redis, Result } from 'ioredis'
import { closeRedisClient, newRedisClient, pipelineResults } from '../redis/redis-client.ts'
import { type Coordinator, type Lock, lockWithRetries } from './coordinator.ts'
import { decodeMsgpack, encodeNumberMap, type MsgpackValue } from './msgpack.ts'

export interface RedisCoordinatorOptions {
  /**
   * `[DEFAULT] coordination_url` as tooz reads it: `redis://[:password@]host[:port][?db=N]`
   * with tooz's options `namespace` (default `_tooz`), `timeout` (s, default 30),
   * `lock_timeout` and `membership_timeout` (s, default `timeout`).
   */
  readonly url: string
  /** Lease renewal and statistics publication period (default 2 s, at most a third of the timeouts). */
  readonly heartbeatMs?: number
}

const PROCESSING_GROUP = 'gnocchi-processing'
/** tooz's private field that keeps a group hash alive, and its value. */
const GROUP_EXISTS = '__created__'
const GROUP_EXISTS_VALUE = '1'
const STILL_ALIVE = 'Not dead!'
const TOOZ_OPTIONS = ['namespace', 'timeout', 'lock_timeout', 'membership_timeout'] as const

/** redis-py's Lock scripts: extend and release only while the key still holds our token. */
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1`

interface ToozUrl {
  readonly redisUrl: string
  readonly namespace: string
  readonly lockTimeoutMs: number
  readonly membershipTimeoutMs: number
}

/** Splits tooz's own options off the URL; what remains goes to the Redis client. */
export function parseToozRedisUrl(url: string): ToozUrl {
  const u = new URL(url)
  const option = (name: (typeof TOOZ_OPTIONS)[number]) => u.searchParams.get(name) ?? undefined
  const seconds = (name: (typeof TOOZ_OPTIONS)[number], fallback: number) => {
    const raw = option(name)
    if (raw === undefined) return fallback
    const x = Number(raw)
    if (!Number.isFinite(x) || x <= 0)
      throw new Error(`coordination_url: ${name} must be a positive number of seconds`)
    return x
  }
  const timeout = seconds('timeout', 30)
  const namespace = option('namespace') ?? '_tooz'
  // tooz truncates lock_timeout to whole seconds (int()).
  const lockTimeoutMs = Math.trunc(seconds('lock_timeout', timeout)) * 1000
  const membershipTimeoutMs = Math.round(seconds('membership_timeout', timeout) * 1000)
  if (lockTimeoutMs < 1000) throw new Error('coordination_url: lock_timeout must be at least 1 s')
  for (const name of TOOZ_OPTIONS) u.searchParams.delete(name)
  return { redisUrl: u.toString(), namespace, lockTimeoutMs, membershipTimeoutMs }
}

class RedisLock implements Lock {
  released = false
  readonly owner: RedisCoordinator
  readonly key: string
  readonly token: string
  constructor(owner: RedisCoordinator, key: string, token: string) {
    this.owner = owner
    this.key = key
    this.token = token
  }
  release(): Promise<void> {
    return this.owner.releaseMany([this])
  }
}

/**
 * Locks and membership in Redis, compatible with tooz's Redis driver (upstream's
 * `coordination_url = redis://…`), so that our metricd workers and upstream's exclude each
 * other on sacks and list each other in `/v1/status`, across hosts:
 *
 * - a lock is the key `b'<namespace>'_b'<name>'_lock` (QUIRK: tooz formats the namespace and
 *   the name, both bytes, with `%s`, so their Python reprs end up in the key) holding a
 *   random token, set with `NX PX <lock_timeout>`, extended by the heartbeat while held and
 *   deleted on release, both only if it still holds our token (redis-py's Lock);
 * - the processing group is the hash `<namespace>_group:gnocchi-processing` (field
 *   `__created__` = `1`, plus one field per member whose value is its capabilities as
 *   MessagePack: our metricd statistics), listed in the set `<namespace>_groups`;
 * - a member is alive while its key `<namespace>_beats:<member id>` exists (`PSETEX
 *   <membership_timeout>` by the heartbeat); listing the group drops the members without
 *   one, as tooz does.
 *
 * A process that dies keeps its locks until `lock_timeout` (30 s by default) passes.
 */
export class RedisCoordinator implements Coordinator {
  readonly #client: Redis
  readonly #namespace: string
  readonly #lockTimeoutMs: number
  readonly #membershipTimeoutMs: number
  readonly #heartbeat: NodeJS.Timeout
  /** Lock key → our token, for the heartbeat. */
  readonly #held = new Map<string, string>()
  readonly #members = new Map<string, () => Record<string, number>>()
  readonly #waiters = new Set<() => void>()
  #closed = false

  constructor(options: RedisCoordinatorOptions) {
    const parsed = parseToozRedisUrl(options.url)
    this.#namespace = parsed.namespace
    this.#lockTimeoutMs = parsed.lockTimeoutMs
    this.#membershipTimeoutMs = parsed.membershipTimeoutMs
    this.#client = newRedisClient(parsed.redisUrl)
    this.#client.defineCommand('toozExtend', { numberOfKeys: 1, lua: EXTEND_SCRIPT })
    this.#client.defineCommand('toozRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT })
    const period =
      options.heartbeatMs ?? Math.min(2_000, this.#lockTimeoutMs / 3, this.#membershipTimeoutMs / 3)
    this.#heartbeat = setInterval(() => void this.#beat().catch(() => {}), period)
    this.#heartbeat.unref()
  }

  /** The Redis key of a lock, as tooz names it. */
  lockKey(name: string): string {
    return `${pythonBytesRepr(this.#namespace)}_${pythonBytesRepr(name)}_lock`
  }

  #groupKey(): string {
    return `${this.#namespace}_group:${PROCESSING_GROUP}`
  }

  #beatKey(memberId: string): string {
    return `${this.#namespace}_beats:${memberId}`
  }

  /** Queues a member's beat key and its capabilities (our statistics) on `pipe`. */
  #publishMember(pipe: ChainableCommander, memberId: string, statistics: () => Record<string, number>): void {
    pipe.psetex(this.#beatKey(memberId), this.#membershipTimeoutMs, STILL_ALIVE)
    pipe.hset(this.#groupKey(), memberId, encodeNumberMap(statistics()))
  }

  async #beat(): Promise<void> {
    if (this.#closed || (this.#held.size === 0 && this.#members.size === 0)) return
    const pipe = this.#client.pipeline()
    const held = [...this.#held]
    for (const [key, token] of held) pipe.toozExtend(key, token, this.#lockTimeoutMs)
    for (const [memberId, statistics] of this.#members) this.#publishMember(pipe, memberId, statistics)
    const replies = await pipe.exec()
    // A lock whose key no longer holds our token was lost (expired and taken): forget it.
    held.forEach(([key], i) => {
      const [error, extended] = replies?.[i] ?? [null, 0]
      if (!error && extended === 0) this.#held.delete(key)
    })
  }

  async tryLock(name: string): Promise<Lock | undefined> {
    return (await this.tryLockMany([name]))[0]
  }

  /** One pipeline of `SET NX PX` (each lock on its own, as tooz takes them). */
  async tryLockMany(names: readonly string[]): Promise<Array<Lock | undefined>> {
    if (this.#closed) throw new Error('BUG: coordinator used after close()')
    if (names.length === 0) return []
    const keys = names.map((name) => this.lockKey(name))
    const tokens = keys.map(() => randomUUID().replaceAll('-', ''))
    const pipe = this.#client.pipeline()
    for (let i = 0; i < keys.length; i++) pipe.set(keys[i], tokens[i], 'PX', this.#lockTimeoutMs, 'NX')
    const replies = (await pipe.exec()) ?? []
    let error: unknown
    const locks = keys.map((key, i) => {
      const [e, ok] = replies[i] ?? [new Error('Redis pipeline aborted'), null]
      if (e) error ??= e
      if (e || ok !== 'OK') return undefined
      this.#held.set(key, tokens[i])
      return new RedisLock(this, key, tokens[i])
    })
    if (error !== undefined) {
      // Give back what was taken before failing, as a failed tryLock takes nothing.
      await this.releaseMany(locks.filter((l): l is RedisLock => l !== undefined)).catch(() => {})
      throw error
    }
    return locks
  }

  /** One pipeline of redis-py's release script. */
  async releaseMany(locks: readonly Lock[]): Promise<void> {
    const mine = locks.filter(
      (l): l is RedisLock => l instanceof RedisLock && l.owner === this && !l.released,
    )
    if (mine.length === 0) return
    for (const l of mine) {
      l.released = true
      if (this.#held.get(l.key) === l.token) this.#held.delete(l.key)
    }
    if (this.#closed) return
    const pipe = this.#client.pipeline()
    for (const l of mine) pipe.toozRelease(l.key, l.token)
    pipelineResults(await pipe.exec())
    for (const wake of [...this.#waiters]) wake()
  }

  async lock(name: string, timeoutMs: number): Promise<Lock | undefined> {
    return lockWithRetries(() => this.tryLock(name), this.#waiters, timeoutMs)
  }

  /** tooz `join_group_create`: the group is created if needed, then the member added. */
  async joinProcessing(memberId: string, statistics: () => Record<string, number>): Promise<void> {
    this.#members.set(memberId, statistics)
    const tx = this.#client
      .multi()
      .sadd(`${this.#namespace}_groups`, PROCESSING_GROUP)
      .hsetnx(this.#groupKey(), GROUP_EXISTS, GROUP_EXISTS_VALUE)
    this.#publishMember(tx, memberId, statistics)
    pipelineResults(await tx.exec())
  }

  async processingMembers(): Promise<Map<string, Record<string, number>> | undefined> {
    // Publish our own fresh numbers first so a status read in this process is current.
    if (this.#members.size > 0) await this.#beat()
    const groupKey = this.#groupKey()
    const all = await this.#client.hgetallBuffer(groupKey)
    const ids = Object.keys(all)
      .filter((id) => id !== GROUP_EXISTS)
      .sort()
    const out = new Map<string, Record<string, number>>()
    if (ids.length === 0) return out
    const beats = await this.#client.mget(ids.map((id) => this.#beatKey(id)))
    const gone: string[] = []
    ids.forEach((id, i) => {
      if (beats[i] === null && !this.#members.has(id)) {
        gone.push(id)
        return
      }
      out.set(id, numbersOf(all[id]))
    })
    if (gone.length > 0) await this.#client.hdel(groupKey, ...gone)
    return out
  }

  async close(): Promise<void> {
    if (this.#closed) return
    clearInterval(this.#heartbeat)
    try {
      if (this.#client.status !== 'wait' && this.#client.status !== 'end') {
        const pipe = this.#client.pipeline()
        for (const [key, token] of this.#held) pipe.toozRelease(key, token)
        for (const memberId of this.#members.keys()) {
          pipe.hdel(this.#groupKey(), memberId)
          pipe.del(this.#beatKey(memberId))
        }
        await pipe.exec()
      }
    } finally {
      this.#closed = true
      this.#held.clear()
      for (const wake of [...this.#waiters]) wake()
      await closeRedisClient(this.#client)
    }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    toozExtend(key: string, token: string, ms: number): Result<number, Context>
    toozRelease(key: string, token: string): Result<number, Context>
  }
}

/** Python's `str(b'...')` of a name: `b'name'`, quoted and escaped as Python does. */
function pythonBytesRepr(s: string): string {
  const bytes = Buffer.from(s, 'utf8')
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'"
  let body = ''
  for (const byte of bytes) {
    if (byte === 0x5c) body += '\\\\'
    else if (byte === quote.charCodeAt(0)) body += `\\${quote}`
    else if (byte === 0x0a) body += '\\n'
    else if (byte === 0x0d) body += '\\r'
    else if (byte === 0x09) body += '\\t'
    else if (byte >= 0x20 && byte < 0x7f) body += String.fromCharCode(byte)
    else body += `\\x${byte.toString(16).padStart(2, '0')}`
  }
  return `b${quote}${body}${quote}`
}

/** A member's capabilities as statistics: the numeric entries of a map, others dropped. */
function numbersOf(bytes: Buffer | undefined): Record<string, number> {
  if (bytes === undefined || bytes.length === 0) return {}
  let value: MsgpackValue
  try {
    value = decodeMsgpack(bytes)
  } catch {
    return {}
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    return {}
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(value)) if (typeof v === 'number') out[k] = v
  return out
}
