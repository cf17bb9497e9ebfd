/**
 * Test/bench helper: runs upstream Gnocchi's carbonara and python-lz4 through
 * tools/golden/carbonara_oracle.py (JSON requests in, JSON replies out). Not part of the
 * runtime codec.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Skip } from '../../testing/require-tool.ts'
import { probePython, requirePython, UPSTREAM_PYTHON } from '../../testing/test-tools.ts'

export const PYTHON = UPSTREAM_PYTHON
const MODULES = 'gnocchi.carbonara, lz4.block'
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

/** Empty string when upstream carbonara can be imported, else why not (benchmarks). */
export function upstreamUnavailableReason(): string {
  const probe = probePython(`import ${MODULES}`)
  return probe === true ? '' : probe
}

/** Skip option for the cross-checks (a failure when CI is set). */
export function requireUpstreamCarbonara(): Skip {
  return requirePython(MODULES, 'python3-gnocchi python3-lz4')
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
