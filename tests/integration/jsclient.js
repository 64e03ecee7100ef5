// jsclient: the official OpenSearch JavaScript client through switchover,
// against two fake clusters (fake_cluster.py), across switchovers made
// with the admin API.
//
//   node jsclient.js PROXY_URL ADMIN_URL SOURCE_URL TARGET_URL DOCS
//
// 1. The scroll helper and a PIT search, each started at source = 1 and
//    paged through after a switchover: every page must come from the
//    cluster that issued the id (source), without and with compression
//    (gzip request bodies, Accept-Encoding: gzip answers).
// 2. The bulk helper, retries off (client and helper), indexing DOCS
//    documents in many small requests while the weights flip between
//    source and target every 250 ms: 0 errors, 0 dropped, and every
//    document indexed exactly once across the two clusters.
// Prints "ok - ..." / "FAIL - ..." lines and a last JSON summary line;
// exits 1 on any failure.  Everything is bounded: a 60 s watchdog.
'use strict';

const { Client } = require('@opensearch-project/opensearch');

const [proxy, admin, source, target, ndocsArg] = process.argv.slice(2);
const NDOCS = parseInt(ndocsArg || '20000', 10);
let failures = 0;
const summary = {};

setTimeout(() => {
  console.log('FAIL - watchdog: not done after 60 s');
  process.exit(1);
}, 60000).unref();

function check(what, expected, actual) {
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  if (e === a) console.log(`ok - ${what}`);
  else {
    failures++;
    console.log(`FAIL - ${what}: expected ${e}, got ${a}`);
  }
}

async function post(url) {
  const r = await fetch(url, { method: 'POST' });
  await r.text();
  return r.status;
}

async function getJson(url) {
  const r = await fetch(url);
  return r.json();
}

function client(compress) {
  return new Client({
    node: proxy,
    maxRetries: 0,
    requestTimeout: 10000,
    compression: compress ? 'gzip' : false,
    suggestCompression: compress,
  });
}

// Scroll helper: the first page at source, the rest after a switchover.
async function scrollAcross(compress, tag) {
  check(`${tag}: fallback (all to source)`, 200, await post(`${admin}/fallback`));
  const c = client(compress);
  const clusters = new Set();
  const seen = [];
  let pages = 0;
  try {
    for await (const page of c.helpers.scrollSearch({
      index: 'logs', scroll: '1m', size: 5, body: { query: { match_all: {} } },
    })) {
      pages++;
      for (const h of page.body.hits.hits) {
        clusters.add(h._source.cluster);
        seen.push(h._source.n);
      }
      if (pages === 1)
        check(`${tag}: switchover after the first page`, 200,
          await post(`${admin}/switchover`));
    }
    check(`${tag}: scroll helper finished`, true, true);
  } catch (e) {
    failures++;
    console.log(`FAIL - ${tag}: scroll helper: ${e.name}: ${e.message}`);
  }
  check(`${tag}: every scroll page from the issuing cluster`, ['source'], [...clusters]);
  check(`${tag}: every document once, in order`, [...Array(25).keys()], seen);
  const probe = await c.search({ index: 'logs', body: { size: 1 } });
  check(`${tag}: a new search goes to target`, 'target',
    probe.body.hits.hits[0]._source.cluster);
  await c.close();
}

// PIT: opened at source, searched after a switchover, then closed.
async function pitAcross(compress, tag) {
  check(`${tag}: fallback (all to source)`, 200, await post(`${admin}/fallback`));
  const c = client(compress);
  const clusters = new Set();
  const seen = [];
  try {
    const pit = (await c.createPit({ index: 'logs', keep_alive: '1m' })).body.pit_id;
    check(`${tag}: switchover after opening the PIT`, 200, await post(`${admin}/switchover`));
    let after;
    for (let i = 0; i < 10; i++) {
      const body = { size: 10, pit: { id: pit, keep_alive: '1m' }, sort: [{ n: 'asc' }] };
      if (after !== undefined) body.search_after = after;
      const r = await c.search({ body });
      const hits = r.body.hits.hits;
      if (hits.length === 0) break;
      for (const h of hits) {
        clusters.add(h._source.cluster);
        seen.push(h._source.n);
      }
      after = hits[hits.length - 1].sort;
    }
    const del = await c.deletePit({ body: { pit_id: [pit] } });
    check(`${tag}: the PIT closed where it lives`, true, del.body.pits[0].successful);
  } catch (e) {
    failures++;
    console.log(`FAIL - ${tag}: PIT: ${e.name}: ${e.message}`);
  }
  check(`${tag}: every PIT page from the issuing cluster`, ['source'], [...clusters]);
  check(`${tag}: every document once, in order`, [...Array(25).keys()], seen);
  await c.close();
}

// Bulk helper, retries off, while the weights flip.
async function bulkFlipping() {
  check('bulk: fallback (all to source)', 200, await post(`${admin}/fallback`));
  const c = client(false);
  let flips = 0;
  let flipping = true;
  const flipper = (async () => {
    while (flipping && flips < 200) {
      await new Promise((r) => setTimeout(r, 250));
      if (!flipping) break;
      await post(`${admin}/${flips % 2 === 0 ? 'switchover' : 'fallback'}`);
      flips++;
    }
  })();
  let dropped = 0;
  let stats = null;
  try {
    stats = await c.helpers.bulk({
      datasource: (async function* docs() {
        for (let i = 0; i < NDOCS; i++) {
          // However fast the machine, a flip every 2,000 documents at
          // least (bounded: 2 s), so the bulk always spans several.
          if (i > 0 && i % 2000 === 0) {
            const f0 = flips;
            for (let k = 0; k < 40 && flips === f0; k++)
              await new Promise((r) => setTimeout(r, 50));
          }
          yield { id: `doc-${i}`, n: i };
        }
      })(),
      onDocument(doc) {
        return { index: { _index: 'logs', _id: doc.id } };
      },
      onDrop() { dropped++; },
      flushBytes: 4000,
      concurrency: 2,
      retries: 0,
    });
  } catch (e) {
    failures++;
    console.log(`FAIL - bulk helper: ${e.name}: ${e.message}`);
  }
  flipping = false;
  await flipper;
  await c.close();
  summary.flips = flips;
  summary.bulk = stats;
  check('bulk: the helper finished without error', true, stats !== null);
  check('bulk: nothing dropped', 0, dropped);
  if (stats !== null) {
    check('bulk: no failed document', 0, stats.failed);
    check('bulk: every document reported successful', NDOCS, stats.successful);
  }
  if (flips >= 4) console.log(`ok - bulk: the weights flipped ${flips} times meanwhile`);
  else {
    failures++;
    console.log(`FAIL - bulk: only ${flips} flips during the bulk`);
  }
  const a = (await getJson(`${source}/_fake/docs`)).ids;
  const b = (await getJson(`${target}/_fake/docs`)).ids;
  const sa = await getJson(`${source}/_fake/stats`);
  const sb = await getJson(`${target}/_fake/stats`);
  summary.docs = { source: a.length, target: b.length, source_bulks: sa.bulk_requests,
    target_bulks: sb.bulk_requests };
  const inB = new Set(b);
  const both = a.filter((id) => inB.has(id));
  check('bulk: no document indexed twice on one cluster', [0, 0], [sa.dups, sb.dups]);
  check('bulk: no document on both clusters', 0, both.length);
  check('bulk: every document indexed, exactly once', NDOCS, a.length + b.length);
  check('bulk: both clusters took a share', true, a.length > 0 && b.length > 0);
}

(async () => {
  await scrollAcross(false, 'scroll');
  await scrollAcross(true, 'scroll, gzip');
  await pitAcross(false, 'PIT');
  await pitAcross(true, 'PIT, gzip');
  await bulkFlipping();
  const s = await getJson(`${source}/_fake/stats`);
  check('source never saw an id it did not issue', 0, s.missing);
  summary.source = s;
  summary.target = await getJson(`${target}/_fake/stats`);
  console.log(JSON.stringify(summary));
  process.exit(failures === 0 ? 0 : 1);
})().catch((e) => {
  console.log(`FAIL - ${e.stack}`);
  process.exit(1);
});
