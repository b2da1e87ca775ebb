// Operator actions on the board: provision (the secret is shown once), rotate, revoke.
import { $, api, el } from "./common.js";

function showSecret(title, answer) {
  const box = $("secret-box");
  box.replaceChildren(
    el("p", {}, el("strong", {}, title), " — copy it now: it is shown once and never again."),
    el("p", {}, "MQTT username ", el("code", { id: "secret-user" }, answer.mqtt.username)),
    el("p", {}, "MQTT password ", el("code", { id: "secret-password" }, answer.mqtt.password)),
    el("button", { type: "button", onclick: () => (box.hidden = true) }, "Hide secret"),
  );
  box.hidden = false;
}

function failed(err) {
  $("action-error").textContent = `${err.code ?? "error"}: ${err.message}`;
}

export function wireActions(token, refreshChargePoint) {
  $("provision-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("action-error").textContent = "";
    const input = $("new-cp");
    try {
      const answer = await api("POST", "/v1/charge-points", token, { cpId: input.value.trim() });
      showSecret(`Charge point ${answer.cpId} provisioned`, answer);
      input.value = "";
      refreshChargePoint(answer.cpId);
    } catch (err) {
      failed(err);
    }
  });
}

/** The action buttons of one charge point's row; update(cp) keeps them (and focus) in place. */
export function actionButtons(token, cp, refreshChargePoint) {
  const rotate = el("button", { type: "button", "aria-label": `Rotate secret of ${cp.cpId}` }, "Rotate secret");
  rotate.addEventListener("click", async () => {
    $("action-error").textContent = "";
    try {
      showSecret(`New secret for ${cp.cpId}`, await api("POST", `/v1/charge-points/${encodeURIComponent(cp.cpId)}/secret`, token));
      refreshChargePoint(cp.cpId);
    } catch (err) {
      failed(err);
    }
  });
  const revoke = el("button", { type: "button", class: "danger", "aria-label": `Revoke ${cp.cpId}`, disabled: cp.credentialsRevoked }, "Revoke");
  revoke.addEventListener("click", async () => {
    if (!confirm(`Revoke ${cp.cpId}? It is disconnected and cannot connect until its secret is rotated.`)) return;
    $("action-error").textContent = "";
    try {
      await api("DELETE", `/v1/charge-points/${encodeURIComponent(cp.cpId)}/secret`, token);
      refreshChargePoint(cp.cpId);
    } catch (err) {
      failed(err);
    }
  });
  return {
    node: el("div", { class: "row-actions" }, rotate, revoke),
    update: (next) => (revoke.disabled = next.credentialsRevoked),
  };
}
