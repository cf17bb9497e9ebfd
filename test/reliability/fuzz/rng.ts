/** Seeded random choices for the fuzzer (mulberry32 underneath: one stream per request). */
import { mulberry32 } from '../../../src/testing/prng.ts'

export class Rng {
  readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  /** The stream of request `index` of a run: replayable on its own from (seed, index). */
  static forRequest(seed: number, index: number): Rng {
    return new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35))
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    let total = 0
    for (const [w] of xs) total += w
    let r = this.next() * total
    for (const [w, v] of xs) {
      r -= w
      if (r < 0) return v
    }
    return xs[xs.length - 1][1]
  }
  /** Small sizes mostly, large ones rarely (log-uniform up to max). */
  size(max: number): number {
    return Math.floor(Math.exp(this.next() * Math.log(max + 1)))
  }
  hex(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)]
    return s
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`
  }
}
