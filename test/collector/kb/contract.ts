/**
 * What any KbRepository must do, whatever keeps it (collector/kb/repository.ts).
 * Each store runs this suite with a fresh, empty repository: `make` builds one,
 * `close` releases it.
 */
import type { Test } from 'tap'
import type { KbRepository, StoredArticle } from '../../../collector/kb/repository.js'

export interface KbRepositoryUnderTest { store: KbRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

let n = 0
function article (over: Partial<StoredArticle> = {}): StoredArticle {
  n++
  return {
    id: `kb_c${n}`,
    title: `Article ${n}`,
    symptoms: '',
    cause: '',
    steps: [],
    tags: [],
    findingKinds: [],
    keyPatterns: [],
    version: 1,
    createdMs: T0 + n,
    updatedMs: T0 + n,
    createdBy: 'seed',
    updatedBy: 'seed',
    ...over
  }
}

export function kbRepositoryContract (t: Test, make: () => Promise<KbRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<KbRepository> {
    const u = await make()
    t.teardown(u.close)
    return u.store
  }
  const ids = (xs: Array<{ id: string }>): string[] => xs.map(x => x.id)

  t.test('an article comes back as written; an id kept already is refused; update replaces every field', async t => {
    const store = await fresh(t)
    const a = article({
      title: 'Disk full: clean the logs',
      symptoms: 'Disk / above 90 %',
      cause: 'Old logs — journald ✓',
      steps: ['journalctl --vacuum-size=200M', 'remove old kernels'],
      tags: ['disk', 'linux'],
      findingKinds: ['threshold'],
      keyPatterns: ['rule:disk_full:*'],
      sourceIncidentId: 'inc_1'
    })
    await store.insert(a)
    t.same(await store.get(a.id), a)
    t.equal(await store.get('kb_none'), undefined)
    await t.rejects(store.insert({ ...a, title: 'Another' }), 'the same id twice is refused')
    const b = article()
    await store.insert(b)
    t.notOk('sourceIncidentId' in (await store.get(b.id))!, 'an absent source stays absent')
    const changed: StoredArticle = { ...a, title: 'Printer jams', symptoms: 'paper', cause: 'roller', steps: ['open tray'], tags: ['printer'], findingKinds: [], keyPatterns: [], version: 2, updatedMs: T0 + 99, updatedBy: 'Tom Tech' }
    await store.update(changed)
    t.same(await store.get(a.id), changed, 'every field replaced')
    t.same(ids((await store.textSearch(['printer'], 10, 0)).hits.map(h => h.article)), [a.id], 're-indexed: the new words are found')
    t.same((await store.textSearch(['journald'], 10, 0)).hits, [], 'the old words are not')
    await t.rejects(store.update(article({ id: 'kb_missing' })), 'an article not kept cannot be updated')
  })

  t.test('recent: the most recently updated first, with the count of all, paged', async t => {
    const store = await fresh(t)
    const old = article({ updatedMs: T0 })
    const newest = article({ updatedMs: T0 + 3000 })
    const middle = article({ updatedMs: T0 + 2000 })
    for (const a of [old, newest, middle]) await store.insert(a)
    t.same(ids((await store.recent(10, 0)).items), [newest.id, middle.id, old.id])
    const page = await store.recent(1, 1)
    t.equal(page.total, 3, 'total ignores paging')
    t.same(ids(page.items), [middle.id])
  })

  t.test('text search: any word, most relevant first, word forms, query syntax taken literally, snippets', async t => {
    const store = await fresh(t)
    const inTitle = article({ title: 'Battery wear on laptops', tags: ['power'] })
    const inCause = article({ title: 'Slow boot', cause: 'A worn battery makes the firmware throttle' })
    const other = article({ title: 'Printer offline', steps: ['restart the spooler'] })
    const filling = article({ title: 'Disk filling up', symptoms: 'the disk fills every night' })
    for (const a of [inTitle, inCause, other, filling]) await store.insert(a)

    const battery = await store.textSearch(['battery'], 10, 0)
    t.same(ids(battery.hits.map(h => h.article)), [inTitle.id, inCause.id], 'a title match ranks above a cause match')
    t.ok(battery.hits.every(h => h.relevance > 0), 'relevance is positive')
    t.ok(battery.hits[0].relevance > battery.hits[1].relevance, 'and higher for the better match')
    t.match(battery.hits[0].snippet, /\[Battery\]/, 'the snippet brackets the matched word')
    t.equal(battery.total, 2)

    t.same(ids((await store.textSearch(['battery', 'spooler'], 10, 0)).hits.map(h => h.article)).sort(), [inCause.id, inTitle.id, other.id].sort(), 'any of the words')
    t.same(ids((await store.textSearch(['fill'], 10, 0)).hits.map(h => h.article)), [filling.id], 'word forms: "fill" finds "filling" and "fills"')
    const page = await store.textSearch(['battery'], 1, 1)
    t.equal(page.total, 2, 'total ignores paging')
    t.same(ids(page.hits.map(h => h.article)), [inCause.id])

    for (const q of ['"', 'OR', 'NEAR(battery', 'batt*', 'title:battery', 'a"b', '-battery', '^']) {
      const r = await store.textSearch([q], 10, 0)
      t.ok(Array.isArray(r.hits), `${JSON.stringify(q)} is a word, not syntax`)
    }
    t.same(await store.textSearch([], 10, 0), { total: 0, hits: [] }, 'no words, no hits')
  })

  t.test('structured candidates: articles with key patterns or kinds, newest first, bounded', async t => {
    const store = await fresh(t)
    const byKey = article({ keyPatterns: ['rule:disk_full:*'], updatedMs: T0 + 10 })
    const byKind = article({ findingKinds: ['forecast'], updatedMs: T0 + 20 })
    const plain = article({ tags: ['disk'], updatedMs: T0 + 30 })
    for (const a of [byKey, byKind, plain]) await store.insert(a)
    t.same(ids(await store.structured(10)), [byKind.id, byKey.id])
    t.same(ids(await store.structured(1)), [byKind.id], 'at most the limit')
  })

  t.test('which incidents an article resolved: per key family, regressions left out, a new link resolves again', async t => {
    const store = await fresh(t)
    await store.link('kb_1', 'inc_1', 'rule:disk_full', T0)
    await store.link('kb_1', 'inc_2', 'rule:disk_full', T0)
    await store.link('kb_1', 'inc_3', 'rule:cpu_hot', T0)
    await store.link('kb_2', 'inc_1', 'rule:disk_full', T0)
    t.equal(await store.resolvedCount('kb_1'), 3)
    t.equal(await store.resolvedCount('kb_1', 'rule:disk_full'), 2)
    t.equal(await store.resolvedCount('kb_none'), 0)
    await store.setOutcome('inc_2', 'regressed')
    t.equal(await store.resolvedCount('kb_1', 'rule:disk_full'), 1, 'a regression does not count')
    await store.setOutcome('inc_1', 'verified')
    t.equal(await store.resolvedCount('kb_1', 'rule:disk_full'), 1, 'verified counts')
    t.equal(await store.resolvedCount('kb_2'), 1, 'every article linked to the incident follows its outcome')
    await store.link('kb_1', 'inc_2', 'rule:disk_full', T0 + 1)
    t.equal(await store.resolvedCount('kb_1', 'rule:disk_full'), 2, 'linked again: resolved again, counted once')
  })
}
