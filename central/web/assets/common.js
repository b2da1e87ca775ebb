// Shared by the board and the driver app. Plain ES module: browsers run it as served, no build.
// Page data only ever enters the DOM as text (el() below), never as HTML.

/** The token from the #token=… fragment (which never reaches the server) or sessionStorage. */
export function takeToken(key) {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(key, decodeURIComponent(match[1]));
    // Out of the address bar and history, so it is not bookmarked or shared by accident.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(key);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One REST call with the v1 error shape turned into an ApiError. */
export async function api(method, path, token, body) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? "http_" + res.status, data?.error?.message ?? res.statusText);
  return data;
}

/** el("td", { class: "x" }, "text", childNode) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : String(c ?? ""));
  return node;
}

export const $ = (id) => document.getElementById(id);

/** A status word as text and colour (the class), never colour alone. */
export const badge = (word) => el("span", { class: `badge s-${word}` }, word);

export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return "—";
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

export function fmtAgo(iso) {
  if (!iso) return "never";
  return `${fmtDuration(Date.now() - Date.parse(iso))} ago`;
}

export const kWh = (wh) => (typeof wh === "number" ? (wh / 1000).toFixed(2) : "—");
export const kW = (w) => (typeof w === "number" ? (w / 1000).toFixed(1) : "—");

/** Re-render at most once a frame, however many events arrive. */
export function scheduler(render) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
}
