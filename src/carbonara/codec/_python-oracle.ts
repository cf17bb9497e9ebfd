/**
 * Test/bench helper: runs upstream Gnocchi's carbonara and python-lz4 through
 * tools/golden/carbonara_oracle.py (JSON requests in, JSON replies out). Not part of the
 * runtime codec.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const PYTHON = '/usr/bin/python3'
export const ORACLE_PATH = fileURLToPath(
  new URL('../../../tools/golden/carbonara_oracle.py', import.meta.url),
)

export type OracleRequest =
  | { op: 'lz4-compress' | 'lz4-decompress' | 'bound-decode'; data: string }
  | { op: 'bound-encode'; timestamps: string[]; values: string[] }
  | {
      op: 'split-encode'
      key: string
      granularity: string
      compressed: boolean
      timestamps: string[]
      values: string[]
    }
  | { op: 'split-decode'; key: string; granularity: string; data: string }

export interface OracleReply {
  out?: string
  offset?: number | null
  timestamps?: string[]
  values?: string[]
  error?: string
  message?: string
}

let availability: string | undefined

/** Empty string when upstream carbonara can be imported, else why not (for test skips). */
export function upstreamUnavailableReason(): string {
  if (availability === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import gnocchi.carbonara, lz4.block'], { encoding: 'utf8' })
    availability =
      r.status === 0
        ? ''
        : `upstream python3-gnocchi not importable with ${PYTHON} (${r.error?.message ?? r.stderr.trim().split('\n').at(-1)}); install python3-gnocchi to run this cross-check`
  }
  return availability
}

export function runOracle(requests: readonly OracleRequest[]): OracleReply[] {
  const r = spawnSync(PYTHON, [ORACLE_PATH], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  })
  if (r.status !== 0) throw new Error(`oracle failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as OracleReply[]
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}
