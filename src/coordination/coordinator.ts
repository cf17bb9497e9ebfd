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
  /** Waits up to `timeoutMs`; undefined on timeout. */
  lock(name: string, timeoutMs: number): Promise<Lock | undefined>
  /** Registers this process as a metricd processor with its statistics. */
  joinProcessing(memberId: string, statistics: () => Record<string, number>): Promise<void>
  /** Members of the processing group and their statistics; `undefined` if unknown. */
  processingMembers(): Promise<Map<string, Record<string, number>> | undefined>
  close(): Promise<void>
}
