/**
 * Reads of a bounded time range without listing the metric's objects, for drivers where a
 * listing is a request of its own (StorageDriver.listingIsRequest: S3, Swift). The splits a
 * read needs follow from the range and the split size, so they are fetched by name and a 404
 * is "no such split" — the same set a listing would select (selectSplitKeys keeps the keys
 * from splitKeyFor(start) to splitKeyFor(stop)), hence the same result, for splits written by
 * upstream too (same names: formatSecondsAsPythonFloat of the key, as the listing path).
 */
import { decodeBoundTimeSeriesOrEmpty, nextSplitKey, splitKeyFor } from '../carbonara/index.ts'
import type { Logger } from '../log/logger.ts'
import type { SplitRef, StorageDriver } from './storage-driver.ts'

/**
 * At most this many candidate splits over all granularities: a listing (one request) plus
 * the GETs of the splits that exist is cheaper beyond that.
 */
export const MAX_DIRECT_SPLITS = 4

const NS_PER_MS = 1_000_000n

/** A split's identity within one metric and method. */
const refKey = (ref: SplitRef) => `${ref.granularityNs}|${ref.keyNs}`

/** Per granularity, the split keys of [startNs, stopNs]; `undefined` past `limit` in all. */
export function candidateSplitKeys(
  startNs: bigint,
  stopNs: bigint,
  granularitiesNs: readonly bigint[],
  limit: number,
): bigint[][] | undefined {
  const plan: bigint[][] = []
  let total = 0
  for (const g of granularitiesNs) {
    const keys: bigint[] = []
    const last = splitKeyFor(stopNs, g)
    for (let k = splitKeyFor(startNs, g); k <= last; k = nextSplitKey(k, g)) {
      if (++total > limit) return undefined
      keys.push(k)
    }
    plan.push(keys)
  }
  return plan
}

/**
 * The stored bytes of the splits a read of [start, stop] needs, per granularity in query
 * order (`undefined` for a missing split), or `undefined` when the caller must list instead:
 * an open start, too many candidates, no raw object (no such metric, or a state only the
 * listing tells apart), or a bounded range where no split exists (the listing then decides
 * between "no such metric" and "nothing in range", which the API shows differently).
 *
 * An open stop is bounded by the raw object's newest timestamp: every aggregate lies at or
 * before it. The raw object is fetched with the splits up to now (or, for a range far in
 * the past, the start's), in one round trip; the splits between those and that timestamp
 * are fetched after.
 */
export async function readSplitsDirect(
  driver: StorageDriver,
  log: Logger,
  metricId: string,
  method: string,
  granularitiesNs: readonly bigint[],
  startNs: bigint | null,
  stopNs: bigint | null,
): Promise<Array<Array<{ ref: SplitRef; bytes: Uint8Array | undefined }>> | undefined> {
  if (startNs === null) return undefined
  const refsOf = (plan: bigint[][]) =>
    plan.map((keys, i) =>
      keys.map((keyNs): SplitRef => ({ metricId, method, granularityNs: granularitiesNs[i], keyNs })),
    )
  if (stopNs !== null) {
    const plan = candidateSplitKeys(startNs, stopNs, granularitiesNs, MAX_DIRECT_SPLITS)
    if (plan === undefined) return undefined
    const refs = refsOf(plan)
    const blobs = await driver.getSplits(refs.flat())
    if (blobs.every((b) => b === undefined)) return undefined
    return regroup(refs, blobs)
  }
  // Guess up to now (live metrics); for a range far in the past, only the start's splits.
  const now = BigInt(Date.now()) * NS_PER_MS
  const guess =
    (now > startNs ? candidateSplitKeys(startNs, now, granularitiesNs, MAX_DIRECT_SPLITS) : undefined) ??
    candidateSplitKeys(startNs, startNs, granularitiesNs, MAX_DIRECT_SPLITS)
  if (guess === undefined) return undefined
  const guessRefs = refsOf(guess).flat()
  const [raws, blobs] = await Promise.all([driver.getUnaggregated([metricId]), driver.getSplits(guessRefs)])
  const raw = decodeBoundTimeSeriesOrEmpty(raws.get(metricId), (error) =>
    log.error('Data corruption detected for unaggregated timeserie, listing instead', {
      metric: metricId,
      error,
    }),
  )
  if (raw.timestamps.length === 0) return undefined
  let newest = raw.timestamps[0]
  for (const t of raw.timestamps) if (t > newest) newest = t
  const plan = candidateSplitKeys(startNs, newest, granularitiesNs, MAX_DIRECT_SPLITS)
  if (plan === undefined) return undefined
  const got = new Map<string, Uint8Array | undefined>()
  guessRefs.forEach((ref, i) => {
    got.set(refKey(ref), blobs[i])
  })
  const refs = refsOf(plan)
  const late = refs.flat().filter((ref) => !got.has(refKey(ref)))
  if (late.length > 0) {
    const more = await driver.getSplits(late)
    late.forEach((ref, i) => {
      got.set(refKey(ref), more[i])
    })
  }
  // Splits past the raw object's newest timestamp are dropped: a listing made when that
  // raw object was current would not have held them either.
  return refs.map((row) => row.map((ref) => ({ ref, bytes: got.get(refKey(ref)) })))
}

function regroup(
  refs: SplitRef[][],
  blobs: ReadonlyArray<Uint8Array | undefined>,
): Array<Array<{ ref: SplitRef; bytes: Uint8Array | undefined }>> {
  let j = 0
  return refs.map((row) => row.map((ref) => ({ ref, bytes: blobs[j++] })))
}
