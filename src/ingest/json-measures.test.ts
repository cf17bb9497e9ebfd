import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pyFloat } from '../compat/py-float.ts'
import { ConversionError } from '../compat/timespan.ts'
import { BEFORE_EPOCH, parseTimestampsNs } from '../compat/timestamp.ts'
import { decodeBundle } from '../incoming/bundle.ts'
import { mulberry32 } from '../testing/prng.ts'
import { InvalidMeasuresError } from './errors.ts'
import { bundleFromJsonMeasures } from './json-measures.ts'

const NOW = 1_600_000_000_123_456_000n
const now = () => NOW

/** The reference: src/compat/timestamp.ts's general converter + Python float(), as upstream. */
function reference(body: unknown): { timestamps: bigint[]; values: number[] } | string {
  if (
    !Array.isArray(body) ||
    !body.every((m) => typeof m === 'object' && m !== null && !Array.isArray(m) && 'timestamp' in m)
  ) {
    return 'unexpected measures format'
  }
  let ts: BigInt64Array
  try {
    ts = parseTimestampsNs(
      body.map((m) => m.timestamp),
      now,
    )
  } catch (e) {
    if (!(e instanceof ConversionError)) return 'unexpected measures format'
    // numpy converts every timestamp before checking the epoch: "Unable" wins.
    if (e.message === BEFORE_EPOCH) {
      for (const m of body) {
        try {
          parseTimestampsNs([m.timestamp], now)
        } catch (e2) {
          if (e2 instanceof ConversionError && e2.message !== BEFORE_EPOCH)
            return `unexpected timestamp '${e2.message}'`
        }
      }
    }
    return `unexpected timestamp '${e.message}'`
  }
  const values: number[] = []
  for (const m of body) {
    const v = pyFloat(m.value)
    if (v === undefined) return 'unexpected measures value'
    values.push(v)
  }
  return { timestamps: [...ts], values }
}

function actual(body: unknown) {
  try {
    const s = decodeBundle(bundleFromJsonMeasures(body, now))
    return { timestamps: [...s.timestamps], values: [...s.values] }
  } catch (e) {
    if (e instanceof InvalidMeasuresError) return e.reason
    throw e
  }
}

function f(body: unknown) {
  assert.deepEqual(actual(body), reference(body), JSON.stringify(body))
}

describe('bundleFromJsonMeasures agrees with the general converter', () => {
  test('cases', () => {
    f([])
    f([
      { timestamp: '2015-03-06T14:33:57', value: 43.1 },
      { timestamp: '2015-03-06T14:34:12', value: 12 },
    ])
    f([{ timestamp: '2015-03-06 14:33:57.123456789Z', value: '12' }])
    f([{ timestamp: '2015-03-06T14:33:57.5+00:00', value: true }])
    f([{ timestamp: '2015-03-06T14:33:57+02:00', value: 1 }])
    f([
      { timestamp: '2016-02-29T23:59:59', value: 1 },
      { timestamp: '2016-02-30T00:00:00', value: 1 },
    ])
    f([{ timestamp: '1969-12-31T23:59:59', value: 1 }])
    f([
      { timestamp: '2015-03-06', value: 1 },
      { timestamp: '2015-03', value: 1 },
    ])
    f([
      { timestamp: 1425652437.123, value: 1 },
      { timestamp: '1425652440', value: 'nan' },
    ])
    f([{ timestamp: -1, value: 1 }])
    f([{ timestamp: 1e300, value: 1 }])
    f([
      { timestamp: '-5 minutes', value: 1 },
      { timestamp: '10 minutes', value: 2 },
    ])
    f([
      { timestamp: 1, value: 1 },
      { timestamp: '-5 minutes', value: 1 },
    ])
    f([{ timestamp: '2015-03-06T14:33:57', value: 'x' }])
    f([
      { timestamp: '2015-03-06T14:33:57', value: 'x' },
      { timestamp: 'garbage', value: 1 },
    ])
    f([{ timestamp: '2015-03-06T14:33:57', value: 1 }, ['2015', 1]])
    f([{ timestamp: null, value: 1 }])
    f([{ timestamp: {}, value: 1 }])
    f([{ value: 1 }])
    f({ timestamp: 1, value: 1 })
    f(1)
    f([
      { timestamp: '2015-03-06T14:33:57', value: 1 },
      { timestamp: 1425652437, value: 1 },
    ])
    f([
      { timestamp: '2099-12-31T23:59:59.999999999', value: 1 },
      { timestamp: '2100-01-01T00:00:00', value: 1 },
    ])
  })
  test('random ISO and epoch bodies (seeded)', () => {
    const rand = mulberry32(3)
    const pad = (n: number, w: number) => String(n).padStart(w, '0')
    for (let n = 0; n < 300; n++) {
      const body: unknown[] = []
      const iso = rand() < 0.5
      for (let i = 0; i < 20; i++) {
        let timestamp: unknown
        if (iso) {
          const y = 1965 + Math.floor(rand() * 140)
          timestamp = `${y}-${pad(1 + Math.floor(rand() * 12), 2)}-${pad(1 + Math.floor(rand() * 31), 2)}${rand() < 0.5 ? 'T' : ' '}${pad(Math.floor(rand() * 24), 2)}:${pad(Math.floor(rand() * 60), 2)}:${pad(Math.floor(rand() * 60), 2)}`
          if (rand() < 0.5)
            timestamp += `.${String(Math.floor(rand() * 1e9)).slice(0, 1 + Math.floor(rand() * 9))}`
          if (rand() < 0.3) timestamp += ['Z', '+00:00', '-00:00', '+01:30'][Math.floor(rand() * 4)]
        } else timestamp = rand() < 0.9 ? rand() * 4e9 : String(rand() * 4e9)
        body.push({ timestamp, value: rand() < 0.98 ? rand() * 100 : 'v' })
      }
      f(body)
    }
  })
})
