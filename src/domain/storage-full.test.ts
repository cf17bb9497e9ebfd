import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isStorageFullError } from './storage-full.ts'

test('full-storage errors of every backend are recognised, through causes', () => {
  const fs = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    errno: -28,
  })
  const quota = Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' })
  const sqlite = Object.assign(new Error('database or disk is full'), {
    code: 'ERR_SQLITE_ERROR',
    errcode: 13,
  })
  const pg = Object.assign(new Error('could not extend file'), { code: '53100' })
  const mysql = Object.assign(new Error("The table 'x' is full"), {
    code: 'ER_RECORD_FILE_FULL',
    errno: 1114,
  })
  const mysqlWrite = Object.assign(
    new Error('Error writing file \'/tmp/x\' (Errcode: 28 "No space left on device")'),
    {
      code: 'ER_ERROR_ON_WRITE',
      errno: 1026,
    },
  )
  const redis = new Error("OOM command not allowed when used memory > 'maxmemory'.")
  for (const e of [fs, quota, sqlite, pg, mysql, mysqlWrite, redis])
    assert.ok(isStorageFullError(e), e.message)
  assert.ok(isStorageFullError(new Error('wrapped', { cause: fs })))
  assert.ok(isStorageFullError(new AggregateError([new Error('x'), sqlite])))
})

test('other errors are not', () => {
  const busy = Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', errcode: 5 })
  const enoent = Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
  const cyclic: Error & { cause?: unknown } = new Error('loop')
  cyclic.cause = cyclic
  for (const e of [busy, enoent, cyclic, new Error('x'), null, 'ENOSPC', 28])
    assert.ok(!isStorageFullError(e))
})
