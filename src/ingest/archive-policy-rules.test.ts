import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ArchivePolicyRuleMatcher, fnmatchToRegExp } from './archive-policy-rules.ts'

// Long enough that V8 refuses the translated regexp ("Regular expression too large").
const LONG = 'x'.repeat(50_000)

test('glob patterns beyond V8 regexp limits still match as fnmatch does', () => {
  const cases: Array<[string, string, boolean]> = [
    [LONG, LONG, true],
    [LONG, `${LONG}x`, false],
    [`${LONG}*.cpu`, `${LONG}abc.cpu`, true],
    [`${LONG}*.cpu`, `${LONG}abc.mem`, false],
    [`${LONG}?`, `${LONG}🦄`, true],
    [`${LONG}?`, `${LONG}ab`, false],
    [`${LONG}[!a]z`, `${LONG}bz`, true],
    [`${LONG}[!a]z`, `${LONG}az`, false],
    [`${LONG}[a-c]*[`, `${LONG}b-anything-[`, true],
    [`*${LONG}*`, `a${LONG}b`, true],
    [`${LONG}[z-a]`, `${LONG}a`, false],
  ]
  for (const [p, s, want] of cases)
    assert.equal(fnmatchToRegExp(p).test(s), want, `${p.slice(-8)} ~ ${s.slice(-8)}`)
})

test('a rule with a huge pattern does not break matching the other rules', () => {
  const m = new ArchivePolicyRuleMatcher([
    { name: 'huge', metricPattern: LONG, archivePolicyName: 'a' },
    { name: 'all', metricPattern: '*', archivePolicyName: 'b' },
  ])
  assert.equal(m.match('cpu'), 'b')
  assert.equal(m.match(LONG), 'a')
})
