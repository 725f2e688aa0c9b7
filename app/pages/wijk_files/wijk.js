// The /wijk/ pages: fetch a persisted query from the public GraphQL API and render it with DOM calls
// (textContent only, never innerHTML: the data is user-written text). No dependencies, no build.

const STATUS = {
  RUNNING: "Loopt",
  GRANTED: "Toegekend",
  REQUESTED: "Aangevraagd",
  COMPLETED: "Afgerond",
  REJECTED: "Afgewezen",
  IDEA: "Idee",
};
const MEASURES = {
  initiatives: "Initiatieven",
  initiative_participants: "Deelnemers aan initiatieven",
  initiative_budget_granted: "Toegekend budget",
  initiative_budget_spent: "Besteed budget",
};
const euros = new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR" });
const SVG = "http://www.w3.org/2000/svg";

// The document text of a persisted query; the lead switches this to GET-by-hash once the server
// keeps the allowlist (the text is the same file).
// A persisted query by GET: only its SHA-256 travels (the allowlist in app/graphql/persisted holds
// the same file), so the answer is public, carries an ETag and may be cached by the browser or a CDN.
async function graphql(name, variables) {
  const text = await (await fetch(`/wijk/queries/${name}.graphql`)).text();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const sha256Hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const params = new URLSearchParams({
    variables: JSON.stringify(variables),
    extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash } }),
  });
  const answer = await fetch(`/graphql?${params}`, { headers: { Accept: "application/json" } });
  const body = await answer.json();
  if (!answer.ok || body.errors) throw new Error(`GraphQL ${name}: ${answer.status}`);
  return body.data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

const euro = (cents) => (cents === null || cents === undefined ? "–" : euros.format(cents / 100));
const buurtLink = (b) => el("a", { href: `/wijk/buurt/${b.code}` }, b.name);
const initiativeLink = (i) => el("a", { href: `/wijk/initiatief/${i.id}` }, i.title);

// A withheld figure is never a zero: below the threshold, or withheld to protect another cell.
function withheld(cell) {
  return cell.suppressed === "BELOW_THRESHOLD" ? "minder dan 10" : "niet gepubliceerd";
}

function showValue(unit, cell) {
  if (cell.value === null) return withheld(cell);
  return unit.includes("cent") ? euro(cell.value) : cell.value.toLocaleString("nl-NL");
}

function main() {
  return document.getElementById("inhoud");
}

function show(title, ...sections) {
  document.title = `${title} – Wijkwerk`;
  main().replaceChildren(el("h1", {}, title), ...sections.flat(Infinity).filter((s) => s !== null));
}

// --- the overview --------------------------------------------------------------------------------

async function overview() {
  const { neighbourhoods } = await graphql("wijk_overview", {});
  const wijken = new Map(); // in the order of the buurt codes, so a wijk's code orders it too
  for (const b of neighbourhoods) {
    const key = b.wijkCode ?? "";
    const wijk = wijken.get(key) ?? { title: wijkTitle(b), buurten: [] };
    wijk.buurten.push(b);
    wijken.set(key, wijk);
  }
  const sections = [...wijken].map(([key, wijk], index) =>
    el("section", { "aria-labelledby": `wijk-${index + 1}` },
      el("h2", { id: `wijk-${index + 1}` }, wijk.title),
      key ? el("p", { class: "code" }, `Wijkcode ${key}`) : null,
      el("ul", { class: "kaarten" }, wijk.buurten.map(buurtCard))));
  show("Wijken en buurten", el("p", {}, "Kies een buurt voor de initiatieven, het budget en de cijfers."), sections);
}

// A wijk by its name; its code only when the municipality gave it no name.
function wijkTitle(b) {
  if (b.wijkCode === null) return "Buurten buiten een wijk";
  return b.wijkName ?? `Wijk ${b.wijkCode}`;
}

function buurtCard(b) {
  const networks = b.networks.map((n) => n.name).join(", ") || "geen wijknetwerk";
  const running = b.initiatives.length
    ? el("ul", {}, b.initiatives.map((i) => el("li", {}, initiativeLink(i))))
    : el("p", {}, "Geen lopende initiatieven.");
  return el("li", {},
    el("h3", {}, buurtLink(b)),
    el("p", {}, `Wijknetwerk: ${networks}`),
    el("p", {}, `Lopende initiatieven: ${b.initiatives.length}`),
    running);
}

// --- a buurt --------------------------------------------------------------------------------------

// The last four finished quarters, oldest first (figures exist for finished periods only), as the
// API's period keys ("2026-Q1").
function lastQuarters(today = new Date()) {
  let year = today.getFullYear();
  let quarter = Math.floor(today.getMonth() / 3); // the current one, 0-based: the previous is finished
  const found = [];
  for (let n = 0; n < 4; n += 1) {
    if (quarter === 0) { year -= 1; quarter = 4; }
    found.unshift(`${year}-Q${quarter}`);
    quarter -= 1;
  }
  return found;
}

// A period key as residents say it: "2026-Q1" is "1e kwartaal 2026".
function quarterLabel(key) {
  const [year, quarter] = key.split("-Q");
  return { quarter: `${quarter}e kwartaal`, year };
}
const quarterText = (key) => { const q = quarterLabel(key); return `${q.quarter} ${q.year}`; };

async function buurt() {
  const code = location.pathname.split("/").pop();
  const quarters = lastQuarters();
  const year = new Date().getFullYear();
  const [q1, q2, q3, q4] = quarters;
  const data = await graphql("wijk_buurt", { code, year, q1, q2, q3, q4 });
  const b = data.neighbourhood;
  if (b === null) {
    show("Buurt niet gevonden", el("p", {}, "Deze buurt bestaat niet."), el("p", {}, el("a", { href: "/wijk/" }, "Naar alle buurten")));
    return;
  }
  show(b.name,
    el("p", {}, b.wijkCode ? `Buurt in ${wijkTitle(b)}, buurtcode ${b.code}` : `Buurtcode ${b.code}`),
    initiativesSection(b.initiatives),
    networksSection(b.networks, year),
    figuresSection([b.q1, b.q2, b.q3, b.q4], quarters),
    themesSection(b.topThemes, q4),
    offersSection(data.directoryServices.nodes));
}

function section(id, title, ...content) {
  return el("section", { "aria-labelledby": id }, el("h2", { id }, title), ...content);
}

function initiativesSection(initiatives) {
  const groups = Object.entries(STATUS)
    .map(([status, label]) => [label, initiatives.filter((i) => i.status === status)])
    .filter(([, items]) => items.length);
  if (!groups.length) return section("initiatieven", "Initiatieven", el("p", {}, "Nog geen openbare initiatieven."));
  return section("initiatieven", "Initiatieven",
    groups.map(([label, items]) => {
      const list = el("ul", {}, items.map((i) => el("li", {}, initiativeLink(i), " – ", amounts(i))));
      // A long history folds away (keyboard-operable <details>), so the page stays short on a phone.
      const shown = items.length > 5 ? el("details", {}, el("summary", {}, `Toon alle ${items.length}`), list) : list;
      return [el("h3", {}, `${label} (${items.length})`), shown];
    }));
}

function amounts(i) {
  const parts = [];
  if (i.grantedAmountCents !== null) parts.push(`toegekend ${euro(i.grantedAmountCents)}`);
  else if (i.requestedAmountCents !== null) parts.push(`gevraagd ${euro(i.requestedAmountCents)}`);
  if (i.spentAmountCents !== null) parts.push(`besteed ${euro(i.spentAmountCents)}`);
  if (i.participantsReached !== null) parts.push(`${i.participantsReached} deelnemers`);
  return parts.join(", ") || "nog geen bedrag";
}

function networksSection(networks, year) {
  if (!networks.length) return section("netwerk", "Wijknetwerk", el("p", {}, "Geen wijknetwerk in deze buurt."));
  return section("netwerk", `Wijknetwerk en jaarplan ${year}`, networks.map((n) => yearPlan(n, year)));
}

function yearPlan(network, year) {
  const plan = network.yearPlan;
  if (plan === null) return [el("h3", {}, network.name), el("p", {}, `Geen jaarplan voor ${year}.`)];
  const row = (label, cents) => [el("dt", {}, label), el("dd", {}, euro(cents))];
  return [
    el("h3", {}, network.name),
    plan.summary ? el("p", {}, plan.summary) : null,
    el("dl", { class: "bedragen" },
      row("Budget", plan.budgetCents),
      row("Toegekend", plan.grantedCents),
      row("Besteed (gemeld door initiatieven)", plan.spentCents),
      row("Teruggevloeid (niet besteed)", plan.returnedCents),
      row("Beschikbaar", plan.availableCents)),
    budgetBar(plan),
    el("p", {}, "Thema's: ", plan.priorities.map((t) => t.labelNl).join(", ") || "geen"),
  ];
}

function budgetBar(plan) {
  const width = 300;
  const granted = plan.budgetCents ? Math.min(1, (plan.grantedCents - plan.returnedCents) / plan.budgetCents) : 0;
  const figure = svg("svg", { viewBox: `0 0 ${width} 24`, "aria-hidden": "true", focusable: "false" });
  figure.append(svg("rect", { x: 0, y: 2, width, height: 20, fill: "#dfe6ee", stroke: "#555" }));
  figure.append(svg("rect", { x: 0, y: 2, width: Math.round(width * granted), height: 20, fill: "#0b4f8a" }));
  return el("div", { class: "grafiek" }, figure, el("p", {}, `${Math.round(granted * 100)}% van het budget is toegekend (na wat terugvloeide).`));
}

function figuresSection(periods, quarters) {
  const measures = new Map();
  periods.forEach((stats, index) => {
    for (const f of stats?.figures ?? []) {
      if (f.category !== "total") continue;
      const row = measures.get(f.measure) ?? { unit: f.unit, cells: quarters.map(() => null) };
      row.cells[index] = f.cell;
      measures.set(f.measure, row);
    }
  });
  if (!measures.size) return section("cijfers", "Cijfers per kwartaal", el("p", {}, "Voor deze buurt zijn geen cijfers gepubliceerd."));
  return section("cijfers", "Cijfers per kwartaal",
    el("p", {}, "Kleine aantallen worden niet gepubliceerd: zo blijft niemand herkenbaar."),
    [...measures].map(([measure, row]) => chart(measure, row, quarters)));
}

function chart(measure, row, quarters) {
  const label = MEASURES[measure] ?? measure;
  const max = Math.max(1, ...row.cells.map((c) => c?.value ?? 0));
  const figure = svg("svg", { viewBox: "0 0 320 144", "aria-hidden": "true", focusable: "false" });
  row.cells.forEach((cell, index) => {
    const x = 10 + index * 78;
    const q = quarterLabel(quarters[index]);
    figure.append(svg("text", { x: x + 30, y: 124, "text-anchor": "middle", "font-size": 10, fill: "#1b1b1b" }, q.quarter));
    figure.append(svg("text", { x: x + 30, y: 138, "text-anchor": "middle", "font-size": 10, fill: "#1b1b1b" }, q.year));
    if (cell === null || cell.value === null) {
      // Withheld: an empty dashed box with the reason, never a bar of height zero.
      figure.append(svg("rect", { x, y: 10, width: 60, height: 100, fill: "none", stroke: "#555", "stroke-dasharray": "4 3" }));
      figure.append(svg("text", { x: x + 30, y: 64, "text-anchor": "middle", "font-size": 9, fill: "#1b1b1b" }, cell ? withheld(cell) : "niet gepubliceerd"));
      return;
    }
    const height = Math.round((cell.value / max) * 100);
    figure.append(svg("rect", { x, y: 110 - height, width: 60, height, fill: "#0b4f8a" }));
  });
  const cells = row.cells.map((cell) => (cell ? showValue(row.unit, cell) : "niet gepubliceerd"));
  return el("figure", { class: "grafiek" },
    el("figcaption", {}, el("h3", {}, label)),
    figure,
    el("table", {},
      el("caption", { class: "ingehouden" }, `${label} per kwartaal`),
      el("thead", {}, el("tr", {}, quarters.map((key) => el("th", { scope: "col" }, quarterText(key))))),
      el("tbody", {}, el("tr", {}, cells.map((text) => el("td", {}, text))))));
}

function themesSection(topThemes, quarter) {
  if (topThemes === null) {
    return section("themas", "Wat speelt er",
      el("p", {}, `De meest voorkomende thema's (${quarterText(quarter)}) zijn voor deze buurt niet gepubliceerd.`));
  }
  return section("themas", `Wat speelt er (${quarterText(quarter)})`,
    el("ul", {}, topThemes.map((t) => el("li", {},
      `${t.theme.labelNl}: ${t.count.value === null ? withheld(t.count) : `${t.count.value} huishoudens`}`,
      t.initiatives.length ? el("ul", {}, t.initiatives.map((i) => el("li", {}, initiativeLink(i)))) : " (nog geen initiatief)"))));
}

function offersSection(services) {
  if (!services.length) return section("aanbod", "Aanbod in de buurt", el("p", {}, "Geen aanbod van de sociale kaart gevonden."));
  return section("aanbod", "Aanbod in de buurt (sociale kaart)",
    el("ul", { class: "kaarten" }, services.map((s) => el("li", {},
      el("h3", {}, s.name),
      el("p", {}, s.organizationName, s.freeOfCharge ? " – gratis" : ""),
      el("p", {}, s.description),
      s.url ? el("p", {}, el("a", { href: s.url, rel: "noopener noreferrer" }, `Website van ${s.name}`)) : null))));
}

// --- one initiative -----------------------------------------------------------------------------

async function initiative() {
  const id = location.pathname.split("/").pop();
  const { initiative: i } = await graphql("wijk_initiative", { id });
  if (i === null) {
    show("Initiatief niet gevonden", el("p", {}, el("a", { href: "/wijk/" }, "Naar alle buurten")));
    return;
  }
  const row = (label, value) => (value === null || value === undefined ? [] : [el("dt", {}, label), el("dd", {}, value)]);
  show(i.title,
    el("p", {}, "Buurt: ", buurtLink(i.neighbourhood), `, wijknetwerk ${i.network.name}`),
    el("p", {}, i.summary),
    el("dl", { class: "bedragen" },
      row("Status", STATUS[i.status]),
      row("Gevraagd", i.requestedAmountCents === null ? null : euro(i.requestedAmountCents)),
      row("Toegekend", i.grantedAmountCents === null ? null : euro(i.grantedAmountCents)),
      row("Besteed", i.spentAmountCents === null ? null : euro(i.spentAmountCents)),
      row("Deelnemers", i.participantsReached),
      row("Begint", i.startsOn),
      row("Eindigt", i.endsOn),
      row("Besluit", i.grant ? `${i.grant.decision === "GRANTED" ? "toegekend" : "afgewezen"} op ${i.grant.decidedAt.slice(0, 10)}` : null)),
    el("p", {}, "Thema's: ", i.themes.map((t) => t.labelNl).join(", ") || "geen"));
}

const PAGES = { overview, buurt, initiative };

PAGES[document.body.dataset.page]().catch(() => {
  show("Er ging iets mis", el("p", { class: "fout", role: "alert" }, "De gegevens konden niet worden geladen. Probeer het later opnieuw."));
});
