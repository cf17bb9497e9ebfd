/** Deterministic request bodies: seeded PRNG, UUIDs, measures JSON. */

/** mulberry32: tiny, fast, good enough for benchmark data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

/** A random (version 4 layout) UUID from `r`. */
export function uuid(r: () => number): string {
  const w = () => Math.floor(r() * 0x10000)
  return (
    `${hex(w(), 4)}${hex(w(), 4)}-${hex(w(), 4)}-4${hex(w() & 0xfff, 3)}-` +
    `${hex((w() & 0x3fff) | 0x8000, 4)}-${hex(w(), 4)}${hex(w(), 4)}${hex(w(), 4)}`
  )
}

/** 2024-01-01T00:00:00Z: fixed base so every run writes the same timestamps. */
export const BASE_MS = Date.UTC(2024, 0, 1)

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19)

/** `[{"timestamp": "...", "value": v}, ...]` as a string (no JSON.stringify of objects). */
export function measuresJson(startMs: number, stepMs: number, n: number, r: () => number): string {
  const parts = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    parts[i] =
      `{"timestamp":"${iso(startMs + i * stepMs)}","value":${(Math.round(r() * 10000) / 100).toString()}}`
  }
  return `[${parts.join(',')}]`
}

export const scaled = (base: number, scale: number, min = 1): number =>
  Math.max(min, Math.round(base * scale))
