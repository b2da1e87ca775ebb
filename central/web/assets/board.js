// The operator board: charge points, reservations, sessions and gateways, live from the stream.
import { $, api, badge, el, fmtAgo, fmtDuration, kW, kWh, scheduler, takeToken } from "./common.js";
import { openLive } from "./live.js";
import { actionButtons, wireActions } from "./board-actions.js";

const KEY = "chargebridge.operatorToken";
const ENDED_KEPT = 20;
const state = { cps: new Map(), reservations: new Map(), sessions: new Map(), gateways: new Map(), depthSeen: new Map() };
let token = takeToken(KEY);
let live;

const dash = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

/**
 * Connector and transport as text (docs/ocpp.md, "Connectors"): an MQTT charger or a box's own
 * charge point is "connector 1"; connector N of box X says so. Null until the charger reports.
 */
function linkCell(cp) {
  const c = cp.connector;
  const connector = !c ? "—" : c.chargeBox === cp.cpId ? `connector ${c.connectorId}` : `connector ${c.connectorId} of ${c.chargeBox}`;
  return [el("span", { class: "connector" }, connector), " / ", el("span", { class: "transport" }, dash(cp.transport))];
}

/**
 * Rows are kept and updated in place, not rebuilt: a rebuilt row would take keyboard focus away
 * from its buttons every time a heartbeat arrives.
 */
const cpRows = new Map();

function cpRow(cp) {
  let r = cpRows.get(cp.cpId);
  if (!r) {
    const cells = Array.from({ length: 5 }, () => el("td"));
    const actions = actionButtons(token, cp, refreshChargePoint);
    r = { tr: el("tr", { "data-cp": cp.cpId }, el("th", { scope: "row" }, cp.cpId), ...cells, el("td", {}, actions.node)), cells, actions };
    cpRows.set(cp.cpId, r);
  }
  return r;
}

function renderChargePoints() {
  const list = [...state.cps.values()].sort((a, b) => a.cpId.localeCompare(b.cpId));
  $("cp-count").textContent = `(${list.length})`;
  const body = $("cp-rows");
  list.forEach((cp, i) => {
    const { tr, cells, actions } = cpRow(cp);
    const trouble = cp.fault ? `Fault ${cp.fault.code}${cp.fault.message ? `: ${cp.fault.message}` : ""}` : cp.conflict ? `Conflict ${cp.conflict.kind}${cp.conflict.detail ? `: ${cp.conflict.detail}` : ""}` : cp.credentialsRevoked ? "Credentials revoked" : "—";
    tr.dataset.status = cp.status;
    cells[0].className = "cp-status";
    cells[0].replaceChildren(badge(cp.status));
    cells[1].replaceChildren(badge(cp.online ? "online" : "offline"));
    cells[2].textContent = fmtAgo(cp.lastSeenAt);
    cells[2].title = dash(cp.lastSeenAt);
    cells[3].replaceChildren(...linkCell(cp));
    cells[4].textContent = trouble;
    actions.update(cp);
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
  });
}

function renderReservations() {
  const rows = [...state.reservations.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const live = rows.filter((r) => r.status === "reserved" || r.status === "charging");
  const ended = rows.filter((r) => !live.includes(r)).slice(0, ENDED_KEPT);
  const shown = [...live, ...ended];
  $("res-rows").replaceChildren(
    ...(shown.length === 0 ? [el("tr", {}, el("td", { colspan: 5 }, "None yet"))] : shown.map((r) => {
      const when = r.endedAt ? `ended ${fmtAgo(r.endedAt)}` : r.status === "reserved" ? `expires in ${fmtDuration(Date.parse(r.expiresAt) - Date.now())}` : `started ${fmtAgo(r.startedAt)}`;
      return el("tr", { "data-reservation": r.reservationId },
        el("th", { scope: "row" }, r.reservationId), el("td", {}, r.cpId), el("td", {}, badge(r.status)), el("td", {}, when), el("td", {}, dash(r.endReason)));
    })),
  );
}

function renderSessions() {
  const rows = [...state.sessions.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, 50);
  $("ses-rows").replaceChildren(
    ...(rows.length === 0 ? [el("tr", {}, el("td", { colspan: 6 }, "None yet"))] : rows.map((s) => {
      const end = s.stoppedAt ? Date.parse(s.stoppedAt) : Date.now();
      return el("tr", { "data-session": s.sessionId },
        el("th", { scope: "row" }, s.sessionId), el("td", {}, s.cpId), el("td", { class: "energy" }, kWh(s.energyWh)),
        el("td", {}, s.stoppedAt ? "—" : kW(s.powerW)), el("td", {}, fmtDuration(end - Date.parse(s.startedAt))),
        el("td", {}, s.stoppedAt ? `stopped (${dash(s.stopReason)})` : "charging"));
    })),
  );
}

/** The gateway view of GET /v1/gateways and the stream's `gateway` events (protocol/gateway-health.ts). */
function gatewayFacts(g) {
  return {
    id: g.gatewayId,
    depth: g.queue?.depth,
    oldest: g.queue?.oldestAgeMs,
    kafka: g.kafka?.state ?? "unknown",
    kafkaUp: g.kafka?.state === "connected",
    chargers: g.connected,
    version: g.version,
    at: g.at,
    stale: g.stale === true,
  };
}

function renderGateways() {
  const rows = [...state.gateways.values()].map(gatewayFacts).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  $("gw-rows").replaceChildren(
    ...(rows.length === 0 ? [el("tr", {}, el("td", { colspan: 8 }, "No health reports yet"))] : rows.map((g) => {
      const warnings = [];
      if (!g.kafkaUp) warnings.push(`Kafka link ${g.kafka === "connecting" ? "not up yet" : "down"}`);
      if (state.depthSeen.get(g.id)?.growing) warnings.push("Queue growing");
      if (g.stale) warnings.push("Silent: no health report lately");
      const chargers = g.chargers && typeof g.chargers === "object" ? Object.entries(g.chargers).map(([k, v]) => `${k} ${v}`).join(", ") : dash(g.chargers);
      return el("tr", { "data-gateway": g.id, class: warnings.length ? "warn" : "" },
        el("th", { scope: "row" }, dash(g.id)), el("td", { class: "queue-depth" }, dash(g.depth)),
        el("td", {}, typeof g.oldest === "number" ? fmtDuration(g.oldest) : "—"),
        el("td", { class: "kafka" }, badge(g.kafkaUp ? "connected" : g.kafka)), el("td", {}, chargers), el("td", {}, dash(g.version)),
        el("td", {}, fmtAgo(g.at)),
        el("td", { class: "warnings" }, ...(warnings.length ? warnings.map((w) => el("span", { class: "badge s-warning" }, w)) : ["none"])));
    })),
  );
}

const render = scheduler(() => {
  renderChargePoints();
  renderReservations();
  renderSessions();
  renderGateways();
});

function onGateway(view) {
  const g = gatewayFacts(view);
  const seen = state.depthSeen.get(g.id);
  // Growing: deeper than the last report, and it stays flagged until the depth falls again.
  if (typeof g.depth === "number") state.depthSeen.set(g.id, { depth: g.depth, growing: seen ? g.depth > seen.depth || (seen.growing && g.depth >= seen.depth && g.depth > 0) : false });
  state.gateways.set(g.id, view);
  render();
}

async function refreshChargePoint(cpId) {
  try {
    state.cps.set(cpId, await api("GET", `/v1/charge-points/${encodeURIComponent(cpId)}`, token));
    render();
  } catch {
    /* the stream brings it anyway */
  }
}

async function resync() {
  const [cps, gateways] = await Promise.all([api("GET", "/v1/charge-points", token), api("GET", "/v1/gateways", token).catch(() => [])]);
  for (const cp of cps) state.cps.set(cp.cpId, cp);
  for (const g of Array.isArray(gateways) ? gateways : gateways?.gateways ?? []) onGateway(g);
  render();
}

function onSnapshot(data) {
  const lists = { chargePoints: "cps", charge_points: "cps", reservations: "reservations", sessions: "sessions" };
  for (const [field, target] of Object.entries(lists)) {
    if (!Array.isArray(data?.[field])) continue;
    for (const v of data[field]) state[target].set(v.cpId && target === "cps" ? v.cpId : v.reservationId && target === "reservations" ? v.reservationId : v.sessionId ?? v.cpId, v);
  }
  for (const g of data?.gateways ?? []) onGateway(g);
  resync().catch(() => {});
  render();
}

function setLive(word, detail) {
  const text = { live: "Live", connecting: "Connecting…", offline: `Offline — ${detail ?? "reconnecting"}`, refused: "Token refused" }[word];
  $("live-state").textContent = text;
  $("live-state").dataset.state = word;
  if (word === "refused") signOut(detail);
}

function signIn(t) {
  token = t;
  sessionStorage.setItem(KEY, t);
  $("login").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  wireActions(token, refreshChargePoint);
  resync().catch((err) => (err.status === 401 || err.status === 403 ? signOut(err.message) : undefined));
  live = openLive(token, {
    charge_point: (v) => (state.cps.set(v.cpId, v), render()),
    reservation: (v) => (state.reservations.set(v.reservationId, v), render()),
    session: (v) => (state.sessions.set(v.sessionId, v), render()),
    gateway: onGateway,
    snapshot: onSnapshot,
    resync: () => resync().catch(() => {}),
  }, setLive);
}

function signOut(reason) {
  live?.close();
  sessionStorage.removeItem(KEY);
  if (reason) sessionStorage.setItem("chargebridge.loginError", reason);
  location.reload();
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  signIn($("token").value.trim());
});
$("sign-out").addEventListener("click", () => signOut());
$("login-error").textContent = sessionStorage.getItem("chargebridge.loginError") ?? "";
sessionStorage.removeItem("chargebridge.loginError");
// A silent gateway sends no events, so its `stale` flag (Central's judgement) is re-read.
setInterval(() => token && api("GET", "/v1/gateways", token).then((gs) => gs.forEach(onGateway), () => {}), 5000);
// Countdowns and durations; charge point rows update in place, so focus stays where it was.
setInterval(render, 1000);
if (token) signIn(token);
