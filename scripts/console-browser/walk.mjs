// The lcm console's browser suite: one language per run (LCM_LANG=en|fr), against a
// fresh `lcm serve --demo` started by run.sh. Walks a triangular partnership from
// proposal to recorded outcome by clicks, checks the overview's figures and the CSV
// downloads against the gRPC reports (through the `lcm` CLI), runs axe-core on every
// page, and writes a screenshot of every page under $SCREENS. Exits non-zero on the
// first broken step (with what it saw), or when axe finds serious/critical violations.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const LANG = process.env.LCM_LANG || 'en';
const URL0 = env('CONSOLE_URL').replace(/\/$/, '');
const GRPC = env('GRPC_ADDR');
const BIN = env('LCM_BIN');
const SCREENS = env('SCREENS');
const BANNER = readFileSync(env('BANNER'), 'utf8');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(SCREENS, { recursive: true });

const L = {
  en: { token: 'Token', signIn: 'Sign in', signOut: 'Sign out', propose: 'Propose matches', dryRun: 'Dry run',
    approve: 'Approve', reject: 'Reject', reason: 'Reason', accept: 'Accept', note: 'Note', schedule: 'Schedule',
    start: 'Start', end: 'End', startDelivery: 'Start delivery', complete: 'Complete',
    recordOutcome: 'Record outcome', trained: 'Trained', womenTrained: 'Women trained', certified: 'Certified',
    deployed: 'Deployed missions', trainersQualified: 'Trainers qualified', downloadCsv: 'Download CSV', other: 'Français',
    history: 'History', created: 'Created', newOffer: 'New offer', create: 'Create',
    nav: { overview: 'Overview', needs: 'Needs', offers: 'Offers', matches: 'Matches', arrangements: 'Arrangements',
      reports: 'Reports', events: 'Events', principals: 'Principals' },
    reports: { gaps: 'Gap report', gender: 'Gender report', deconfliction: 'Deconfliction report',
      capacity: 'Capacity report', readiness: 'Readiness report' } },
  fr: { token: 'Jeton', signIn: 'Se connecter', signOut: 'Se déconnecter', propose: 'Proposer des appariements',
    dryRun: 'Essai à blanc', approve: 'Approuver', reject: 'Rejeter', reason: 'Motif', accept: 'Accepter',
    note: 'Note', schedule: 'Planifier', start: 'Début', end: 'Fin', startDelivery: 'Commencer la formation',
    complete: 'Terminer', recordOutcome: 'Enregistrer le résultat', trained: 'Formés', womenTrained: 'Femmes formées',
    certified: 'Certifiés', deployed: 'Missions de déploiement', trainersQualified: 'Formateurs qualifiés', downloadCsv: 'Télécharger le CSV', other: 'English',
    history: 'Historique', created: 'Créé', newOffer: 'Nouvelle offre', create: 'Créer',
    nav: { overview: "Vue d'ensemble", needs: 'Besoins', offers: 'Offres', matches: 'Appariements',
      arrangements: 'Accords', reports: 'Rapports', events: 'Événements', principals: 'Comptes' },
    reports: { gaps: 'Rapport des écarts', gender: 'Rapport sur le genre', deconfliction: 'Rapport de déconfliction',
      capacity: 'Rapport des capacités', readiness: 'Rapport de préparation' } },
}[LANG];

// Tokens from the demo banner: kind, bound (state or centre), token.
const principals = BANNER.split('\n').filter((l) => l.includes('LCM_TOKEN=')).map((l) => {
  const parts = l.trim().split(/\s+/);
  return { kind: parts[0], bound: parts[0] === 'SECRETARIAT' ? '' : parts[1], token: l.split('LCM_TOKEN=')[1].trim() };
});
const secretariat = principals.find((p) => p.kind === 'SECRETARIAT').token;
const tokenOf = (bound) => principals.find((p) => p.bound === bound)?.token;

function lcm(...args) {
  const out = execFileSync(BIN, ['--json', ...args], { env: { ...process.env, LCM_ADDR: GRPC, LCM_TOKEN: secretariat } });
  return JSON.parse(out.toString());
}

let step = 0;
const failures = [];
function check(cond, what) {
  if (!cond) throw new Error(`[${LANG}] check failed: ${what}`);
}

async function audit(page, name) {
  step += 1;
  const file = `${SCREENS}/${LANG}-${String(step).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    failures.push(`[${LANG}] ${name} (${page.url()}): axe ${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }
  console.log(`  ${LANG} ${name}: screenshot ${file}, axe serious/critical: ${bad.length}`);
}

async function signIn(browser, token, who) {
  const context = await browser.newContext({ locale: LANG === 'fr' ? 'fr-FR' : 'en-US', acceptDownloads: true,
    viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) failures.push(`[${LANG}] CSP: ${m.text()}`);
  });
  await page.goto(`${URL0}/login`);
  if (who === 'secretariat') await audit(page, 'sign-in');
  await page.getByLabel(L.token, { exact: true }).fill(token);
  await page.getByRole('button', { name: L.signIn, exact: true }).click();
  await page.waitForURL(`${URL0}/`);
  check(await page.getByRole('button', { name: L.signOut, exact: true }).isVisible(), `${who} is signed in`);
  // The header names the principal by its display name, never by its id.
  const shownName = (await page.locator('header .who strong').textContent()).trim();
  check(shownName && !/^principal-\d+$/.test(shownName), `${who}'s header shows a display name, not "${shownName}"`);
  return page;
}

// Arrangement statuses as people read them; the walk fails if a page in one language
// shows a status in the other's words or by its API name.
const STATUS = {
  en: ['Pending consent', 'Agreed', 'Scheduled', 'In delivery', 'Completed', 'Declined', 'Cancelled'],
  fr: ['En attente de consentement', 'Convenu', 'Planifié', 'Formation en cours', 'Terminé', 'Décliné', 'Annulé'],
};
const STATUS_API = ['PENDING_CONSENT', 'AGREED', 'SCHEDULED', 'IN_DELIVERY', 'COMPLETED', 'DECLINED', 'CANCELLED'];
const OTHER = LANG === 'fr' ? 'en' : 'fr';

async function checkBoardLanguage(page) {
  const headings = await page.locator('#board h2').allTextContents();
  check(JSON.stringify(headings.map((h) => h.trim())) === JSON.stringify(STATUS[LANG]),
    `the arrangements board's columns read ${STATUS[LANG].join(', ')}; shown: ${headings.join(', ')}`);
  const text = await page.locator('main').innerText();
  const wrong = [...STATUS[OTHER].filter((w) => !STATUS[LANG].includes(w)), ...STATUS_API]
    .filter((w) => new RegExp(`(^|[^\\p{L}_])${w}($|[^\\p{L}_])`, 'u').test(text));
  check(wrong.length === 0, `the ${LANG} arrangements board shows statuses in other words: ${wrong.join(', ')}`);
}

async function nav(page, key) {
  await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: L.nav[key], exact: true }).click();
  await page.waitForLoadState('load');
}

async function figures(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-figure]')].map((e) => [e.dataset.figure, e.textContent.trim()])));
}

function expectedFigures() {
  const gap = lcm('report', 'gaps').rows;
  const sum = (k) => String(gap.reduce((a, r) => a + Number(r[k] || 0), 0));
  const gender = lcm('report', 'gender');
  const dec = lcm('report', 'deconfliction').findings || [];
  const pending = lcm('arrangements', 'list', '--status', 'PENDING_CONSENT');
  const consents = pending.flatMap((a) => a.consents || []).filter((c) => String(c.decision).endsWith('PENDING')).length;
  return {
    seats_demanded: sum('needed'), seats_reserved: sum('reserved'), seats_delivered: sum('delivered'),
    seats_open: sum('open'), critical_open: sum('critical_open'), overdue: sum('overdue'),
    women_share: Number(gender.overall?.women_share || 0).toFixed(2),
    deconfliction_findings: String(dec.length), pending_consents: String(consents),
    at_risk_needs: String((lcm('report', 'readiness').rows || []).length),
  };
}

async function checkOverview(page, label) {
  await nav(page, 'overview');
  const shown = await figures(page);
  const expected = expectedFigures();
  for (const [k, v] of Object.entries(expected)) {
    check(shown[k] === v, `${label}: overview figure ${k} shows ${shown[k]}, the gRPC reports say ${v}`);
  }
  console.log(`  ${LANG} ${label}: overview figures equal the gRPC reports`, JSON.stringify(shown));
  return shown;
}

function parseCsv(text) {
  const rows = [];
  for (const line of text.trim().split('\n')) {
    const cells = []; let cur = ''; let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) { if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c; }
      else if (c === '"') quoted = true; else if (c === ',') { cells.push(cur); cur = ''; } else cur += c;
    }
    cells.push(cur); rows.push(cells);
  }
  return rows;
}

async function download(page) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: L.downloadCsv, exact: true }).click()]);
  return readFileSync(await dl.path(), 'utf8');
}

async function checkReports(page) {
  await nav(page, 'reports');
  await audit(page, 'report-gaps');
  const gapCsv = parseCsv(await download(page));
  const gap = lcm('report', 'gaps').rows;
  const header = gapCsv[0];
  check(gapCsv.length - 1 === gap.length, `gap CSV has ${gapCsv.length - 1} rows, the report ${gap.length}`);
  gapCsv.slice(1).forEach((cells, i) => header.forEach((h, j) => {
    const want = h === 'key' ? gap[i].key : String(Number(gap[i][h] || 0));
    check(cells[j] === want, `gap CSV row ${i} ${h}: ${cells[j]} vs ${want}`);
  }));
  await page.getByRole('link', { name: L.reports.gender, exact: true }).click();
  await audit(page, 'report-gender');
  const genderCsv = parseCsv(await download(page));
  const gender = lcm('report', 'gender');
  const rows = [...gender.rows, gender.overall];
  check(genderCsv.length - 1 === rows.length, `gender CSV rows ${genderCsv.length - 1} vs ${rows.length}`);
  genderCsv.slice(1).forEach((cells, i) => genderCsv[0].forEach((h, j) => {
    const want = rows[i][h];
    if (h === 'requester') check(cells[j] === (want || ''), `gender CSV row ${i} requester`);
    else if (h === 'below_target') check(cells[j] === String(Boolean(want)), `gender CSV row ${i} below_target`);
    else check(Math.abs(Number(cells[j]) - Number(want || 0)) < 1e-9, `gender CSV row ${i} ${h}: ${cells[j]} vs ${want}`);
  }));
  await page.getByRole('link', { name: L.reports.deconfliction, exact: true }).click();
  await audit(page, 'report-deconfliction');
  const decCsv = parseCsv(await download(page));
  check(decCsv.length - 1 === (lcm('report', 'deconfliction').findings || []).length, 'deconfliction CSV rows');
  if (LANG === 'fr') {
    // Findings read in French (written from their fields), not in the service's English.
    const text = await page.locator('main').innerText();
    check(!/may receive|open needs|sources at overlapping/.test(text), 'the French deconfliction findings read in French');
  }
  for (const name of ['capacity', 'readiness']) {
    await page.getByRole('link', { name: L.reports[name], exact: true }).click();
    await audit(page, `report-${name}`);
    const rowsCsv = parseCsv(await download(page));
    const want = lcm('report', name).rows || [];
    check(rowsCsv.length - 1 === want.length, `${name} CSV rows ${rowsCsv.length - 1} vs ${want.length}`);
    const key = name === 'capacity' ? 'requester' : 'need_id';
    rowsCsv.slice(1).forEach((cells, i) => check(cells[rowsCsv[0].indexOf(key)] === want[i][key], `${name} CSV row ${i} ${key}`));
  }
  console.log(`  ${LANG} CSV downloads parse and equal the gRPC reports`);
  return { gap, gender };
}

async function openArrangement(page, id) {
  await nav(page, 'arrangements');
  await checkBoardLanguage(page);
  await page.getByRole('link', { name: id, exact: true }).first().click();
  await page.waitForURL(`${URL0}/arrangements/${id}`);
}

async function flashError(page) {
  const n = await page.locator('.notice.error').count();
  return n ? (await page.locator('.notice.error').first().textContent()) : '';
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const sec = await signIn(browser, secretariat, 'secretariat');
  await audit(sec, 'overview');
  const before = await checkOverview(sec, 'at start');
  // Language link.
  check(await sec.getByRole('link', { name: L.other, exact: true }).isVisible(), `the ${L.other} link is shown`);
  // 375 px wide: nothing scrolls sideways on the overview.
  await sec.setViewportSize({ width: 375, height: 800 });
  await sec.reload();
  const overflow = await sec.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 376, `overview fits 375 px (scrollWidth ${overflow})`);
  await audit(sec, 'overview-375px');
  await sec.setViewportSize({ width: 1280, height: 900 });

  await nav(sec, 'needs'); await audit(sec, 'needs');
  await nav(sec, 'offers'); await audit(sec, 'offers');
  await nav(sec, 'events'); await audit(sec, 'events');
  await nav(sec, 'principals'); await audit(sec, 'principals');

  // Dry run, then propose.
  await nav(sec, 'matches');
  // The demo's own history may already hold matches: a dry run must add none.
  const storedBefore = lcm('match', 'list').length;
  await sec.getByRole('checkbox', { name: L.dryRun, exact: true }).check();
  await sec.getByRole('button', { name: L.propose, exact: true }).click();
  await sec.waitForLoadState('load');
  check(await sec.locator('section.dry-run article.match').count() > 0, 'the dry run lists would-be matches');
  await audit(sec, 'matches-dry-run');
  const stored = lcm('match', 'list');
  check(stored.length === storedBefore,
    `a dry run stores nothing (${storedBefore} matches before, ${stored.length} after)`);
  await sec.getByRole('button', { name: L.propose, exact: true }).click();
  await sec.waitForLoadState('load');
  await audit(sec, 'matches-proposed');

  // A triangular proposal: open its need's explanation, then approve it.
  // A triangular proposal whose parties all have demo principals (preferring one hosted
  // by a training centre that has one too).
  const proposedIds = await sec.locator('article.match', { has: sec.locator('.tag') })
    .filter({ has: sec.getByRole('button', { name: L.approve, exact: true }) })
    .evaluateAll((cards) => cards.map((c) => c.id));
  const candidates = proposedIds.map((id) => lcm('match', 'show', id))
    .filter((m) => m.triangular && m.parties.every((s) => tokenOf(s)));
  check(candidates.length > 0, `a triangular match with demo parties is proposed (of ${proposedIds.join(', ')})`);
  const chosen = candidates.find((m) => m.allocations.some((a) => tokenOf(a.training_centre_id))) || candidates[0];
  const matchId = chosen.id;
  const card = sec.locator(`article#${matchId}`);
  const needId = (await card.locator('a[href^="/needs/"]').first().textContent()).trim();
  await card.locator('a[href^="/needs/"]').first().click();
  await sec.waitForURL(`${URL0}/needs/${needId}`);
  check((await sec.locator('#explain-h').count()) === 1, 'the need page shows its explanation');
  check((await sec.locator('section[aria-labelledby="explain-h"] tbody tr').count()) > 0, 'the explanation lists candidate offers');
  await audit(sec, 'need-explanation');
  await nav(sec, 'matches');
  const target = sec.locator(`article#${matchId}`);
  await target.getByRole('button', { name: L.approve, exact: true }).click();
  await sec.waitForLoadState('load');
  check(!(await flashError(sec)), `approval of ${matchId} went through: ${await flashError(sec)}`);
  await audit(sec, 'matches-approved');
  const approved = lcm('match', 'show', matchId);
  const arrangementId = approved.arrangement_ids[0];
  check(arrangementId, `${matchId} created arrangements`);

  await openArrangement(sec, arrangementId);
  await audit(sec, 'arrangement-pending');
  const arrangement = lcm('arrangements', 'show', arrangementId);
  const parties = (arrangement.consents || []).map((c) => c.state);
  console.log(`  ${LANG} ${matchId} approved → ${arrangementId}, parties ${parties.join(', ')}`);

  // Each party signs in and accepts.
  for (const state of parties) {
    const token = tokenOf(state);
    check(token, `the demo has a principal for ${state}`);
    const p = await signIn(browser, token, state);
    await openArrangement(p, arrangementId);
    const form = p.locator('form', { has: p.getByRole('button', { name: L.accept, exact: true }) });
    await form.getByLabel(L.note, { exact: true }).fill(`${state} agrees`);
    await form.getByRole('button', { name: L.accept, exact: true }).click();
    await p.waitForLoadState('load');
    check(!(await flashError(p)), `${state} accepted: ${await flashError(p)}`);
    await audit(p, `accepted-by-${state}`);
    await p.context().close();
  }

  // The Secretariat schedules: first a start the service refuses (its message names the
  // window), then the first day of that window.
  await openArrangement(sec, arrangementId);
  const offer = lcm('offers', 'show', arrangement.allocation.offer_id);
  const addDays = (iso, n) => new Date(Date.parse(iso.slice(0, 10) + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
  await sec.getByLabel(L.start, { exact: true }).fill('2020-01-01');
  await sec.getByLabel(L.end, { exact: true }).fill(addDays('2020-01-01', offer.duration_days));
  await sec.getByRole('button', { name: L.schedule, exact: true }).click();
  await sec.waitForLoadState('load');
  const refusal = await flashError(sec);
  const dates = refusal.match(/\d{4}-\d{2}-\d{2}/g);
  check(dates && dates.length >= 1, `a start in the past is refused in plain words naming the window: ${refusal}`);
  await audit(sec, 'schedule-refused');
  const start = dates[0];
  await sec.getByLabel(L.start, { exact: true }).fill(start);
  await sec.getByLabel(L.end, { exact: true }).fill(addDays(start, offer.duration_days));
  await sec.getByRole('button', { name: L.schedule, exact: true }).click();
  await sec.waitForLoadState('load');
  check(!(await flashError(sec)), `scheduled: ${await flashError(sec)}`);
  await audit(sec, 'arrangement-scheduled');

  // The hosting centre (or, without one, the lead provider) delivers.
  const host = arrangement.training_centre_id && tokenOf(arrangement.training_centre_id)
    ? arrangement.training_centre_id : offer.providers[0];
  const hp = await signIn(browser, tokenOf(host), host);
  await openArrangement(hp, arrangementId);
  await hp.getByRole('button', { name: L.startDelivery, exact: true }).click();
  await hp.waitForLoadState('load');
  check(!(await flashError(hp)), `${host} started delivery: ${await flashError(hp)}`);
  await hp.getByRole('button', { name: L.complete, exact: true }).click();
  await hp.waitForLoadState('load');
  check(!(await flashError(hp)), `${host} completed: ${await flashError(hp)}`);
  const q = arrangement.quantity; const w = arrangement.women_quantity || 0;
  await hp.getByLabel(L.trained, { exact: true }).fill(String(q));
  await hp.getByLabel(L.womenTrained, { exact: true }).fill(String(w));
  await hp.getByLabel(L.certified, { exact: true }).fill(String(q));
  // The field exists once the service records trainers qualified (the `depth` branch).
  if (await hp.getByLabel(L.trainersQualified, { exact: true }).count()) {
    await hp.getByLabel(L.trainersQualified, { exact: true }).fill('2');
  }
  await hp.getByLabel(L.deployed, { exact: true }).fill('UNMISS');
  await hp.getByRole('button', { name: L.recordOutcome, exact: true }).click();
  await hp.waitForLoadState('load');
  check(!(await flashError(hp)), `${host} recorded the outcome: ${await flashError(hp)}`);
  await audit(hp, 'outcome-recorded');
  // The history's first row is the creation, in the page's language.
  const firstChange = (await hp.locator('table', { has: hp.locator('caption', { hasText: L.history }) })
    .locator('tbody tr').first().locator('td').nth(1).textContent()).trim();
  check(firstChange === `${L.created} → ${STATUS[LANG][0]}`, `the history starts with the creation: "${firstChange}"`);
  await hp.context().close();
  const done = lcm('arrangements', 'show', arrangementId);
  check(String(done.status).endsWith('COMPLETED') && done.outcome && Number(done.outcome.trained) === q, 'the arrangement is completed with its outcome');

  // Reports changed: delivered seats and women trained.
  const after = await checkOverview(sec, 'after the walk');
  check(Number(after.seats_delivered) === Number(before.seats_delivered) + q, `seats delivered grew by ${q}`);
  const { gender } = await checkReports(sec);
  const recipient = gender.rows.find((r) => r.requester === arrangement.recipient);
  check(Number(recipient?.women_trained || 0) === w, `the gender report counts ${w} women trained for ${arrangement.recipient}`);

  // A mission files an offer it provides through the form: a capacity of 0 first (the
  // service's violation is shown on that field), then a valid one.
  const provider = parties[0];
  const mp = await signIn(browser, tokenOf(provider), provider);
  await nav(mp, 'offers');
  await mp.getByRole('link', { name: L.newOffer, exact: true }).click();
  await mp.waitForLoadState('load');
  check((await mp.locator('#providers').inputValue()) === provider, `the offer form names ${provider} as provider`);
  const today = new Date().toISOString().slice(0, 10);
  await mp.locator('#role').selectOption('1');
  await mp.locator('#category').selectOption('1');
  await mp.locator('#capability').selectOption('1');
  await mp.locator('#title').fill('Walk course');
  await mp.locator('#capacity').fill('0');
  await mp.locator('#available_from').fill(addDays(today, 30));
  await mp.locator('#available_until').fill(addDays(today, 200));
  await mp.locator('#languages').fill('en');
  await mp.locator('#mode').selectOption('1');
  await mp.locator('#duration_days').fill('14');
  await mp.getByRole('button', { name: L.create, exact: true }).click();
  await mp.waitForLoadState('load');
  check(await mp.locator('#capacity-error').isVisible(), 'a capacity of 0 is marked on its field');
  check((await mp.locator('#capacity').getAttribute('aria-invalid')) === 'true' || (await mp.locator('#capacity').getAttribute('aria-describedby') || '').includes('capacity-error'),
    'the capacity field is described by its error');
  await audit(mp, 'offer-form-refused');
  await mp.locator('#capacity').fill('12');
  await mp.getByRole('button', { name: L.create, exact: true }).click();
  await mp.waitForURL(/\/offers\/offer-\d+$/);
  const offerId = mp.url().split('/').pop();
  check((await mp.locator('main').innerText()).includes(offerId), `the new offer's page shows ${offerId}`);
  await audit(mp, 'offer-created');
  const filed = lcm('offers', 'show', offerId);
  check(Number(filed.capacity) === 12 && JSON.stringify(filed.providers) === JSON.stringify([provider]),
    `${offerId} is ${provider}'s offer of 12 seats: ${JSON.stringify(filed)}`);
  await mp.context().close();

  // Sign out.
  await sec.getByRole('button', { name: L.signOut, exact: true }).click();
  await sec.waitForURL(`${URL0}/login`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`console walk (${LANG}) passed: ${step} pages, 0 serious/critical axe violations`);
