import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger, FdLogSink } from './logger.ts'

function errno(code: string): Error {
  return Object.assign(new Error(code), { code })
}

/** A fake fd: `fail` decides per call whether (and after how many bytes) the write fails. */
function fakeFd() {
  const out: string[] = []
  let mode: 'ok' | 'full' | 'partial' = 'ok'
  const write = (_fd: number, data: Uint8Array, off: number, len: number): number => {
    if (mode === 'full') throw errno('ENOSPC')
    if (mode === 'partial') {
      mode = 'full'
      out.push(Buffer.from(data.subarray(off, off + 5)).toString())
      return 5
    }
    out.push(Buffer.from(data.subarray(off, off + len)).toString())
    return len
  }
  return { out, write, set: (m: typeof mode) => (mode = m) }
}

test('failed writes (ENOSPC, EPIPE, EAGAIN) are dropped and counted, never thrown', () => {
  for (const code of ['ENOSPC', 'EPIPE', 'EAGAIN', 'EBADF']) {
    const sink = new FdLogSink(99, () => {
      throw errno(code)
    })
    const log = createLogger({ write: (l) => sink.write(l) })
    assert.doesNotThrow(() => {
      log.info('a')
      log.error('b', { x: 1 })
    })
    assert.equal(sink.dropped, 2)
  }
})

test('after drops, the next written line is preceded by a count; a torn line is closed', () => {
  const fd = fakeFd()
  const sink = new FdLogSink(99, fd.write)
  sink.write('{"first":1}\n')
  fd.set('partial')
  sink.write('{"second":2}\n') // 5 bytes land, then ENOSPC
  sink.write('{"third":3}\n')
  assert.equal(sink.dropped, 2)
  fd.set('ok')
  sink.write('{"fourth":4}\n')
  assert.equal(sink.dropped, 0)
  const lines = fd.out.join('').split('\n')
  assert.equal(lines[0], '{"first":1}')
  assert.equal(lines[1], '{"sec') // torn, then a fresh line
  assert.deepEqual(
    { msg: JSON.parse(lines[2]).msg, dropped: JSON.parse(lines[2]).dropped },
    { msg: 'log lines dropped', dropped: 2 },
  )
  assert.equal(lines[3], '{"fourth":4}')
})

test('a field that cannot be serialised does not throw', () => {
  const lines: string[] = []
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  createLogger({ write: (l) => lines.push(l) }).error('boom', { cyclic })
  assert.equal(JSON.parse(lines[0]).msg, 'boom')
})
