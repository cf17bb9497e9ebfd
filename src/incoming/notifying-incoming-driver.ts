import type { BacklogReport, IncomingDriver, PendingMeasures } from './incoming-driver.ts'

/**
 * Wraps an IncomingDriver and calls `onAdded` after each durable `addMeasures`, so an
 * in-process metricd wakes up at once instead of at its next tick.
 */
export class NotifyingIncomingDriver implements IncomingDriver {
  readonly #inner: IncomingDriver
  #listeners: Array<(metricIds: readonly string[]) => void> = []

  constructor(inner: IncomingDriver) {
    this.#inner = inner
  }

  onAdded(listener: (metricIds: readonly string[]) => void): void {
    this.#listeners.push(listener)
  }

  get name(): string {
    return this.#inner.name
  }
  get sackCount(): number {
    return this.#inner.sackCount
  }
  isConfigured(): Promise<boolean> {
    return this.#inner.isConfigured()
  }
  upgrade(sacks: number): Promise<void> {
    return this.#inner.upgrade(sacks)
  }
  open(): Promise<void> {
    return this.#inner.open()
  }
  sackFor(metricId: string): number {
    return this.#inner.sackFor(metricId)
  }
  sackName(sack: number): string {
    return this.#inner.sackName(sack)
  }
  async addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    await this.#inner.addMeasures(batch)
    const ids = [...batch.keys()]
    for (const listener of this.#listeners) listener(ids)
  }
  sacksWithWork(): Promise<number[]> {
    return this.#inner.sacksWithWork()
  }
  readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures> {
    return this.#inner.readSack(sack, metricIds)
  }
  deleteProcessed(pending: PendingMeasures): Promise<void> {
    return this.#inner.deleteProcessed(pending)
  }
  get readSacks(): IncomingDriver['readSacks'] {
    return this.#inner.readSacks?.bind(this.#inner)
  }
  get deleteProcessedMany(): IncomingDriver['deleteProcessedMany'] {
    return this.#inner.deleteProcessedMany?.bind(this.#inner)
  }
  hasUnprocessed(metricId: string): Promise<boolean> {
    return this.#inner.hasUnprocessed(metricId)
  }
  deleteAllMeasures(metricId: string): Promise<void> {
    return this.#inner.deleteAllMeasures(metricId)
  }
  get watchForWork(): IncomingDriver['watchForWork'] {
    return this.#inner.watchForWork?.bind(this.#inner)
  }
  report(details: boolean): Promise<BacklogReport> {
    return this.#inner.report(details)
  }
  close(): Promise<void> {
    return this.#inner.close()
  }
}
