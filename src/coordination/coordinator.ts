/**
 * Locks and membership shared by every API process and metricd worker of a deployment
 * (upstream: tooz). Sack locks make sure a sack is processed by one worker at a time.
 */
export interface Lock {
  release(): Promise<void>
}

export interface Coordinator {
  /** Non-blocking: undefined when somebody else holds it. */
  tryLock(name: string): Promise<Lock | undefined>
  /**
   * tryLock of each name, as one round trip / transaction (metricd takes many sacks at once);
   * same order as `names`.
   */
  tryLockMany(names: readonly string[]): Promise<Array<Lock | undefined>>
  /** Releases locks of this coordinator together (one round trip / transaction). */
  releaseMany(locks: readonly Lock[]): Promise<void>
  /** Waits up to `timeoutMs`; undefined on timeout. */
  lock(name: string, timeoutMs: number): Promise<Lock | undefined>
  /** Registers this process as a metricd processor with its statistics. */
  joinProcessing(memberId: string, statistics: () => Record<string, number>): Promise<void>
  /** Members of the processing group and their statistics; `undefined` if unknown. */
  processingMembers(): Promise<Map<string, Record<string, number>> | undefined>
  close(): Promise<void>
}

/**
 * `Coordinator.lock` on top of `tryLock`: retries until `timeoutMs`, woken early by a release
 * in this process (a callback added to `waiters`, which `release` calls), and otherwise
 * polling with a backoff from 5 to 100 ms for releases elsewhere.
 */
export async function lockWithRetries(
  tryLock: () => Promise<Lock | undefined>,
  waiters: Set<() => void>,
  timeoutMs: number,
): Promise<Lock | undefined> {
  const deadline = Date.now() + timeoutMs
  let delay = 5
  for (;;) {
    const lock = await tryLock()
    if (lock) return lock
    const left = deadline - Date.now()
    if (left <= 0) return undefined
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, Math.min(delay, left))
      waiters.add(done)
    })
    delay = Math.min(delay * 2, 100)
  }
}
