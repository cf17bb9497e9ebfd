/** The oslo.policy rule language, from its documented grammar (oslo.policy `_parser`, `_checks`). */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger } from '../log/logger.ts'
import { type Credentials, DEFAULT_POLICY_RULES, PolicyEnforcer } from './policy.ts'
import { PolicySource, parsePolicyFile } from './policy-file.ts'

const creds: Credentials = {
  user: 'u1:p1',
  user_id: 'u1',
  project_id: 'p1',
  roles: ['Member', 'reader'],
  groups: [{ id: 'g1' }, { id: 'g2' }],
}

function check(rule: string, target: Record<string, unknown> = {}, c: Credentials = creds): boolean {
  return new PolicyEnforcer({ r: rule, yes: '@', no: '!', member: 'role:member' }).enforce('r', target, c)
}

test('empty rule, @ and ! ', () => {
  assert.equal(check(''), true)
  assert.equal(check('@'), true)
  assert.equal(check('!'), false)
})

test('role checks are case-insensitive and may interpolate the target', () => {
  assert.equal(check('role:member'), true)
  assert.equal(check('role:MEMBER'), true)
  assert.equal(check('role:admin'), false)
  assert.equal(check('role:%(wanted)s', { wanted: 'reader' }), true)
  assert.equal(check('role:%(missing)s'), false)
})

test('rule: references, unknown ones deny', () => {
  assert.equal(check('rule:yes'), true)
  assert.equal(check('rule:member'), true)
  assert.equal(check('rule:no'), false)
  assert.equal(check('rule:nonexistent'), false)
})

test('generic checks against the target, literals and credential paths', () => {
  assert.equal(check('project_id:%(project_id)s', { project_id: 'p1' }), true)
  assert.equal(check('project_id:%(project_id)s', { project_id: 'p2' }), false)
  assert.equal(check('project_id:%(project_id)s', {}), false, 'a missing target key is False')
  assert.equal(check('user_id:u1'), true, 'literal value')
  assert.equal(check("'Member':%(role.name)s", { 'role.name': 'Member' }), true, 'literal kind')
  assert.equal(check('True:%(user.enabled)s', { 'user.enabled': true }), true)
  assert.equal(check('True:%(user.enabled)s', { 'user.enabled': false }), false)
  assert.equal(check('groups.id:g2'), true, 'a list on the path matches any element')
  assert.equal(check('groups.id:g3'), false)
  assert.equal(check('domain_id:%(project_id)s', { project_id: 'p1' }), false, 'absent credential')
  assert.equal(check('roles:reader'), true, 'a list credential')
})

test('and / or / not, precedence and parentheses', () => {
  assert.equal(check('role:member and role:reader'), true)
  assert.equal(check('role:member and role:admin'), false)
  assert.equal(check('role:admin or role:reader'), true)
  assert.equal(check('not role:admin'), true)
  assert.equal(check('not role:member'), false)
  // and binds tighter than or
  assert.equal(check('role:admin and role:member or role:reader'), true)
  assert.equal(check('role:admin and (role:member or role:reader)'), false)
  assert.equal(check('((role:member)) and not (role:admin or !)'), true)
  assert.equal(check('role:admin OR role:reader'), true, 'operators are case-insensitive')
})

test('malformed rules never grant', () => {
  for (const bad of ['(role:member', 'role:member)', 'role:member and', 'and role:member', 'member', 'not']) {
    assert.equal(check(bad), false, bad)
  }
})

test('policy files: YAML and JSON, list rules, comments', () => {
  const yaml = [
    '# sample',
    '"get status": "role:admin or role:reader"',
    "'delete resource': 'rule:admin_or_creator'  # trailing comment",
    'create metric: role:member',
    '"list metric": ""',
  ].join('\n')
  assert.deepEqual(parsePolicyFile(yaml), {
    'get status': 'role:admin or role:reader',
    'delete resource': 'rule:admin_or_creator',
    'create metric': 'role:member',
    'list metric': '',
  })
  const json = JSON.stringify({ a: 'role:x', b: [['role:x', 'role:y'], ['role:z']], c: [] })
  const rules = parsePolicyFile(json)
  const e = new PolicyEnforcer(rules)
  assert.equal(e.enforce('b', {}, { roles: ['z'] }), true)
  assert.equal(e.enforce('b', {}, { roles: ['x'] }), false)
  assert.equal(e.enforce('b', {}, { roles: ['x', 'y'] }), true)
  assert.equal(e.enforce('c', {}, { roles: [] }), true)
  assert.throws(() => parsePolicyFile('a:\n  - nested'), /nested/)
  assert.deepEqual(parsePolicyFile('# only comments\n'), {})
})

test('PolicySource: defaults when absent, file and policy_dirs overrides, reload on change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-policy-'))
  try {
    const file = join(dir, 'policy.yaml')
    const dirs = [join(dir, 'policy.d')]
    const lines: string[] = []
    const source = new PolicySource(file, dirs, createLogger({ write: (l) => lines.push(l) }))
    const member: Credentials = { user: 'u:p', roles: ['member'] }
    assert.equal(source.current().enforce('get status', {}, member), false, 'upstream default')
    writeFileSync(file, '"get status": "role:member"\n')
    await new Promise((r) => setTimeout(r, 1100))
    assert.equal(source.current().enforce('get status', {}, member), true, 'reloaded')
    assert.equal(
      source.current().enforce('create resource', {}, member),
      DEFAULT_POLICY_RULES['create resource'] === '',
      'other rules keep their defaults',
    )
    mkdirSync(dirs[0])
    writeFileSync(join(dirs[0], '10-status.json'), '{"get status": "role:admin"}')
    await new Promise((r) => setTimeout(r, 1100))
    assert.equal(source.current().enforce('get status', {}, member), false, 'policy_dirs override the file')
    rmSync(join(dirs[0], '10-status.json'))
    writeFileSync(file, '"get status": [unparseable\n')
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    await new Promise((r) => setTimeout(r, 1100))
    assert.equal(
      source.current().enforce('get status', {}, member),
      false,
      'a broken file keeps the rules in force',
    )
    assert.equal(source.current().enforce('get status', {}, { user: 'a', roles: ['admin'] }), true)
    assert.ok(lines.some((l) => l.includes('policy file not loaded')))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
