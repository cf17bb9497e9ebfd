import { createHash } from 'node:crypto'

/** Partitions per member of upstream metricd's group (`join_partitioned_group(…, partitions=200)`). */
export const METRICD_PARTITIONS = 200

/**
 * tooz's consistent hash ring (tooz/hashring.py, md5, weight 1), so that our metricd workers and
 * upstream's agree on which members own a sack when they share a coordination group: member m
 * owns the ring points md5(m·m), md5(m·m·m), … (`partitions` of them), an object goes to the
 * first point after md5(object), and `replicas` owners are the next distinct members around.
 */
export class HashRing {
  readonly #points: bigint[] = []
  readonly #owners = new Map<bigint, string>()
  readonly members: ReadonlySet<string>

  constructor(members: Iterable<string>, partitions = METRICD_PARTITIONS) {
    const set = new Set(members)
    this.members = set
    for (const member of set) {
      const key = Buffer.from(member, 'utf8')
      const hash = createHash('md5').update(key)
      for (let r = 0; r < partitions; r++) {
        hash.update(key)
        this.#owners.set(BigInt(`0x${hash.copy().digest('hex')}`), member)
      }
    }
    this.#points = [...this.#owners.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** The members responsible for `object` (tooz `get_nodes`); empty when the ring is. */
  nodesFor(object: string, replicas = 1): Set<string> {
    const out = new Set<string>()
    const n = this.#points.length
    if (n === 0) return out
    const wanted = Math.min(replicas, this.members.size)
    const h = BigInt(`0x${createHash('md5').update(object, 'utf8').digest('hex')}`)
    // bisect_right: the first point strictly greater than h, wrapping to 0.
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.#points[mid] as bigint) <= h) lo = mid + 1
      else hi = mid
    }
    let p = lo < n ? lo : 0
    while (out.size < wanted) {
      out.add(this.#owners.get(this.#points[p] as bigint) as string)
      p = p + 1 < n ? p + 1 : 0
    }
    return out
  }
}
