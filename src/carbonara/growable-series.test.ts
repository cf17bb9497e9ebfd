import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GrowableSeries } from './growable-series.ts'
import { mergeSeries } from './series-ops.ts'
import type { TimeSeries } from './time-series.ts'

function series(points: ReadonlyArray<readonly [number, number]>): TimeSeries {
  return {
    timestamps: BigInt64Array.from(points.map(([t]) => BigInt(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  }
}

function points(s: TimeSeries): Array<[number, number]> {
  return Array.from(s.timestamps, (t, i) => [Number(t), s.values[i]])
}

describe('GrowableSeries.mergeTail', () => {
  it('appends and replaces the tail in place, as mergeSeries would', () => {
    const base = series([
      [10, 1],
      [20, 2],
      [30, 3],
    ])
    const g = GrowableSeries.from(base, 4)
    const before = g.view().timestamps.buffer
    const update = series([
      [30, 33],
      [40, 4],
    ])
    assert.equal(g.mergeTail(update), true)
    assert.deepEqual(points(g.view()), points(mergeSeries(base, update)))
    assert.equal(g.view().timestamps.buffer, before, 'no reallocation while room is left')
    assert.equal(g.mergeTail(series([[50, 5]])), true)
    assert.deepEqual(points(g.view()), [
      [10, 1],
      [20, 2],
      [30, 33],
      [40, 4],
      [50, 5],
    ])
  })

  it('grows when the room is used up, keeping the points', () => {
    const g = GrowableSeries.from(series([[1, 1]]), 0)
    for (let t = 2; t <= 100; t++) assert.equal(g.mergeTail(series([[t, t]])), true)
    assert.equal(g.length, 100)
    assert.ok(g.capacity >= 100)
    assert.deepEqual(
      points(g.view()),
      Array.from({ length: 100 }, (_, i) => [i + 1, i + 1]),
    )
  })

  it('refuses, unchanged, when a stored point after the update start is not in the update', () => {
    const base = series([
      [10, 1],
      [20, 2],
      [30, 3],
    ])
    const g = GrowableSeries.from(base)
    // 20 is kept by mergeSeries (not in the update): not a tail replacement.
    assert.equal(
      g.mergeTail(
        series([
          [15, 9],
          [30, 9],
        ]),
      ),
      false,
    )
    assert.deepEqual(points(g.view()), points(base))
    // An update entirely before the stored points is not a tail either.
    assert.equal(g.mergeTail(series([[5, 9]])), false)
    assert.deepEqual(points(g.view()), points(base))
  })

  it('matches mergeSeries whenever it accepts (random tails)', () => {
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const outcomes = { accepted: 0, refused: 0 }
    for (let round = 0; round < 300; round++) {
      const n = rand(20)
      const base: Array<[number, number]> = []
      let t = 0
      for (let i = 0; i < n; i++) {
        t += 1 + rand(3)
        base.push([t, rand(100)])
      }
      const start = n === 0 ? 0 : base[rand(n)][0] - rand(2)
      const update: Array<[number, number]> = []
      t = start
      for (let k = rand(6) + 1; k > 0; k--) {
        t += rand(2) + 1
        update.push([t, rand(100)])
      }
      const g = GrowableSeries.from(series(base), rand(3))
      const expected = points(mergeSeries(series(base), series(update)))
      if (g.mergeTail(series(update))) {
        outcomes.accepted++
        assert.deepEqual(points(g.view()), expected)
      } else {
        outcomes.refused++
        assert.deepEqual(points(g.view()), base)
      }
    }
    assert.ok(outcomes.accepted > 50 && outcomes.refused > 10, JSON.stringify(outcomes))
  })
})
