// The driver web app: register or #token=…, reserve, start, stop, cancel; live from the stream.
import { $, api, badge, el, fmtAgo, fmtDuration, kW, kWh, scheduler, takeToken } from "./common.js";
import { openLive } from "./live.js";

const KEY = "chargebridge.driverToken";
const RES_KEY = "chargebridge.reservationId";
const state = { cps: new Map(), reservation: null, session: null };
let token = takeToken(KEY);

function renderMine() {
  const r = state.reservation;
  const s = state.session && r && state.session.reservationId === r.reservationId ? state.session : null;
  $("res-status").replaceChildren(r ? badge(r.status) : "None");
  $("res-cp").textContent = r ? r.cpId : "—";
  $("res-time").textContent = !r ? "—" : r.endedAt ? `ended ${fmtAgo(r.endedAt)}${r.endReason ? ` (${r.endReason})` : ""}` : r.status === "reserved" ? `expires in ${fmtDuration(Date.parse(r.expiresAt) - Date.now())}` : `charging since ${fmtAgo(r.startedAt)}`;
  $("ses-energy").textContent = s ? `${kWh(s.energyWh)} kWh` : "—";
  $("ses-power").textContent = s && !s.stoppedAt ? `${kW(s.powerW)} kW` : "—";
  $("ses-duration").textContent = s ? fmtDuration((s.stoppedAt ? Date.parse(s.stoppedAt) : Date.now()) - Date.parse(s.startedAt)) : "—";
  $("start").disabled = r?.status !== "reserved";
  $("cancel").disabled = r?.status !== "reserved";
  $("stop").disabled = r?.status !== "charging";
}

let listShape = "";

function renderChargePoints() {
  const open = !state.reservation || !["reserved", "charging"].includes(state.reservation.status);
  const cps = [...state.cps.values()].filter((cp) => cp.status === "available" && cp.online).sort((a, b) => a.cpId.localeCompare(b.cpId));
  // Rebuilt only when what it shows changes: a heartbeat must not take focus off a button.
  const shape = JSON.stringify([open, cps.map((cp) => cp.cpId)]);
  if (shape === listShape) return;
  listShape = shape;
  $("cp-list").replaceChildren(
    ...(cps.length === 0 ? [el("li", {}, "No charge point is available right now.")] : cps.map((cp) =>
      el("li", { "data-cp": cp.cpId },
        el("span", { class: "cp-name" }, cp.cpId), " ", badge(cp.status),
        el("button", { type: "button", "aria-label": `Reserve ${cp.cpId}`, disabled: !open, onclick: () => act(() => reserve(cp.cpId)) }, "Reserve")))),
  );
}

const render = scheduler(() => {
  renderMine();
  renderChargePoints();
});
// The clock ticks only the countdown and duration: the list and its buttons keep their focus.
const tick = scheduler(renderMine);

function setReservation(view) {
  state.reservation = view;
  sessionStorage.setItem(RES_KEY, view.reservationId);
  render();
}

async function reserve(cpId) {
  setReservation(await api("POST", "/v1/reservations", token, { cpId }));
  state.session = null;
}

async function act(fn) {
  $("action-error").textContent = "";
  try {
    await fn();
  } catch (err) {
    $("action-error").textContent = `${err.code ?? "error"}: ${err.message}`;
    if (err.status === 401) signOut(err.message);
  }
}

async function resync() {
  const [cps, sessions] = await Promise.all([api("GET", "/v1/charge-points", token), api("GET", "/v1/sessions", token)]);
  state.cps = new Map(cps.map((cp) => [cp.cpId, cp]));
  const id = state.reservation?.reservationId ?? sessionStorage.getItem(RES_KEY);
  if (id) state.reservation = await api("GET", `/v1/reservations/${encodeURIComponent(id)}`, token).catch(() => state.reservation);
  const mine = sessions.find((s) => s.reservationId === state.reservation?.reservationId);
  if (mine) state.session = mine;
  render();
}

function setLive(word, detail) {
  $("live-state").textContent = { live: "Live", connecting: "Connecting…", offline: `Offline — ${detail ?? "reconnecting"}`, refused: "Token refused" }[word];
  $("live-state").dataset.state = word;
  if (word === "refused") signOut(detail);
}

function start(t) {
  token = t;
  sessionStorage.setItem(KEY, t);
  $("register").hidden = true;
  $("driver").hidden = false;
  $("sign-out").hidden = false;
  resync().catch((err) => (err.status === 401 ? signOut(err.message) : undefined));
  openLive(token, {
    charge_point: (v) => (state.cps.set(v.cpId, v), render()),
    // The stream carries only this driver's reservations and sessions (docs/protocol.md).
    reservation: (v) => (!state.reservation || v.reservationId === state.reservation.reservationId || ["reserved", "charging"].includes(v.status)) && setReservation(v),
    session: (v) => {
      if (v.reservationId === state.reservation?.reservationId) (state.session = v), render();
    },
    snapshot: () => resync().catch(() => {}),
    resync: () => resync().catch(() => {}),
  }, setLive);
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(RES_KEY);
  if (reason) sessionStorage.setItem("chargebridge.registerError", reason);
  location.reload();
}

$("register-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  $("register-error").textContent = "";
  api("POST", "/v1/drivers", undefined, { name: $("driver-name").value })
    .then((d) => start(d.token))
    .catch((err) => ($("register-error").textContent = `${err.code}: ${err.message}`));
});
const id = () => state.reservation.reservationId;
$("start").addEventListener("click", () => act(() => api("POST", `/v1/reservations/${id()}/start`, token)));
$("stop").addEventListener("click", () => act(() => api("POST", `/v1/reservations/${id()}/stop`, token)));
$("cancel").addEventListener("click", () => act(async () => setReservation(await api("DELETE", `/v1/reservations/${id()}`, token))));
$("sign-out").addEventListener("click", () => signOut());
$("register-error").textContent = sessionStorage.getItem("chargebridge.registerError") ?? "";
sessionStorage.removeItem("chargebridge.registerError");
setInterval(tick, 1000);
if (token) start(token);
