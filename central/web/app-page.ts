import { renderPage } from "./layout.ts";

/** The driver web app: register (or #token=…), reserve, start, stop, cancel; live through the stream. */
export function appPage(): string {
  return renderPage({
    title: "ChargeBridge driver app",
    scripts: ["/assets/app.js"],
    body: `<header class="bar">
  <h1>ChargeBridge</h1>
  <p id="live-state" class="live" role="status" aria-live="polite">Not registered</p>
  <button type="button" id="sign-out" hidden>Sign out</button>
</header>
<main>
  <section id="register" aria-labelledby="register-title">
    <h2 id="register-title">Register</h2>
    <form id="register-form">
      <label for="driver-name">Your name</label>
      <input id="driver-name" name="name" required maxlength="200" autocomplete="name">
      <button type="submit">Register</button>
      <p id="register-error" class="error" role="alert"></p>
    </form>
  </section>
  <div id="driver" hidden>
    <section aria-labelledby="mine-title">
      <h2 id="mine-title">Your charging</h2>
      <dl id="reservation" class="facts">
        <dt>Reservation</dt><dd id="res-status">None</dd>
        <dt>Charge point</dt><dd id="res-cp">—</dd>
        <dt>Expires / ended</dt><dd id="res-time">—</dd>
        <dt>Energy</dt><dd id="ses-energy">—</dd>
        <dt>Power</dt><dd id="ses-power">—</dd>
        <dt>Duration</dt><dd id="ses-duration">—</dd>
      </dl>
      <div class="actions">
        <button type="button" id="start" disabled>Start</button>
        <button type="button" id="stop" disabled>Stop</button>
        <button type="button" id="cancel" disabled>Cancel</button>
      </div>
      <p id="action-error" class="error" role="alert"></p>
    </section>
    <section aria-labelledby="cps-title">
      <h2 id="cps-title">Available charge points</h2>
      <ul id="cp-list" class="cards"><li>Loading…</li></ul>
    </section>
  </div>
</main>
<footer><a href="/board">Operator board</a> · <a href="/docs">API reference</a></footer>`,
  });
}
